/**
 * FusionServer: one fastify instance, its storage and its APIs (each an encapsulated plugin),
 * the health route, the OpenAPI document, and a graceful shutdown. Only this file shares state
 * root-wide, on purpose: the authorizer, the case loader, the storage and the logger.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import Fastify, { LogController } from 'fastify';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { Case } from '../concept/index.js';
import { FusionError } from '../helper/errors.js';
import { createLogger } from '../helper/logging.js';
import type { FusionLogger } from '../helper/logging.js';
import type { FusionAPI } from './api.js';
import type { FusionAuthorizer } from './auth/authorizer.js';
import { loadConfig } from './config.js';
import type { FusionConfig, LoadConfigOptions } from './config.js';
import { installValidation } from './validation.js';
import { installBodyParsers } from './body-parsers.js';
import { redactedRequest } from './log-redaction.js';
import { installErrorHandler } from './error-handler.js';
import { frameworkErrorOptions, refuseConnect } from './framework-errors.js';
import { applyHeadersTimeout, installBodyIdleTimeout, requestTimeoutOptions } from './request-timeouts.js';
import { installHealthRoute } from './health.js';
import { installOpenApi } from './openapi.js';
import type { FusionMetrics } from './metrics/registry.js';
import { installObservability } from './telemetry/install.js';
import type { CaseLoader, EventNotifier, FusionHost, RouteHandler, RouteSpec } from './host.js';
import { buildRoute } from './route.js';
import type { StorageMigration } from './storage/migrations.js';
import type { CaseClass, FusionStorage } from './storage/storage.js';
import { ServerTasks } from './task/server-tasks.js';
import type { FusionTaskRunner } from './task/runner.js';
import type { FusionTask } from './task/task.js';

export type { CaseLoader, EventNotifier } from './host.js';

/** Options of FusionServer. */
export interface FusionServerOptions {
  config: FusionConfig;
  /** APIs to mount, in this order (mount the auth API first: others rely on its hooks). */
  apis?: FusionAPI[];
  /** Logger (default: a new pino logger at `server.log_level`). */
  logger?: FusionLogger;
  /** Case class cases are decoded with (default Case). */
  caseClass?: CaseClass;
  /** An open storage to use instead of opening `config.storage.url`; the server does not close it. */
  storage?: FusionStorage;
  /** The service's own migrations, applied after the framework's when the server opens storage. */
  migrations?: readonly StorageMigration[];
}

/** Options of FusionServer.fromConfig. */
export interface FromConfigOptions extends Omit<FusionServerOptions, 'config'>, LoadConfigOptions {}

/** Listen address; defaults from `server.host` / `server.port`. */
export interface ListenOptions {
  host?: string;
  port?: number;
}

/** One service: fastify, storage, APIs. `start()` opens storage, `listen()` serves, `close()` shuts down. */
export class FusionServer implements FusionHost {
  /** The fastify instance (APIs get encapsulated children of it). */
  readonly fastify: FastifyInstance;
  /** The parsed configuration. */
  readonly config: FusionConfig;
  /** The server's logger (fastify's too). */
  readonly logger: FusionLogger;
  /** APIs in mount order. */
  readonly apis: readonly FusionAPI[];
  /** Case class cases are decoded with. */
  caseClass: CaseClass;
  /** Who authorizes non-public routes; set by the auth API (`setAuthorizer`). */
  authorizer: FusionAuthorizer | null = null;
  /** Who publishes case events; set by the event API (`setEventNotifier`), null without one. */
  eventNotifier: EventNotifier | null = null;
  /** A random id of this server among the instances sharing one database (connection registries, leases). */
  readonly instanceId: string = randomUUID();
  /** This server's Prometheus registry and series helpers (served at /api/metrics when `metrics.enabled`). */
  readonly metrics: FusionMetrics;
  readonly #apis: FusionAPI[] = [];
  #storage: FusionStorage | null;
  readonly #ownsStorage: boolean;
  readonly #migrations: readonly StorageMigration[];
  #caseLoader: CaseLoader | null = null;
  #starting: Promise<void> | null = null;
  #started = false;
  #closing: Promise<void> | null = null;
  readonly #tasks = new ServerTasks();

  constructor(options: FusionServerOptions) {
    if (!options?.config) throw new TypeError('FusionServer: options.config is required (see loadConfig)');
    this.config = options.config;
    this.caseClass = options.caseClass ?? Case;
    this.#storage = options.storage ?? null;
    this.#ownsStorage = options.storage === undefined;
    this.#migrations = options.migrations ?? [];
    const server = this.config.server;
    this.logger = options.logger ?? createLogger({ level: server.logLevel });
    const prefix = randomBytes(4).toString('hex');
    let counter = 0;
    this.fastify = Fastify({
      // A child whose req serializer redacts secrets in URLs (download tokens): fastify keeps it.
      loggerInstance: this.logger.child({}, { serializers: { req: redactedRequest } }),
      bodyLimit: server.clientMaxSize,
      trustProxy: typeof server.trustProxy === 'number' ? trustHops(server.trustProxy) : server.trustProxy,
      genReqId: () => `${prefix}-${(++counter).toString(36)}`,
      logController: new LogController({ requestIdLogLabel: 'request_id', disableRequestLogging: !server.logRequests }),
      return503OnClosing: false,
      ...frameworkErrorOptions(this.logger),
      ...requestTimeoutOptions(server),
    }) as unknown as FastifyInstance; // pino's Logger vs FastifyBaseLogger: the same object, typed twice
    installErrorHandler(this.fastify);
    applyHeadersTimeout(this.fastify, server);
    refuseConnect(this.fastify.server);
    installBodyIdleTimeout(this.fastify, server);
    installValidation(this.fastify);
    this.metrics = installObservability(this.fastify, this.config);
    // JSON APIs: strict UTF-8 JSON; other types only as an empty body (415 otherwise).
    installBodyParsers(this.fastify);
    if (server.docs) installOpenApi(this.fastify, this.config);
    // Framework routes go in a plugin so they load after the OpenAPI collector.
    this.fastify.register(async (app) => installHealthRoute(app, this));
    this.apis = this.#apis;
    for (const api of options.apis ?? []) this.mount(api);
  }

  /** Loads the configuration (a file path or an object) and mounts the built-in APIs whose sections are present. */
  static async fromConfig(source: string | Record<string, unknown> | FusionConfig, options: FromConfigOptions = {}): Promise<FusionServer> {
    const { sections, env, baseDir, apis = [], ...rest } = options;
    const config = isParsedConfig(source) ? source : await loadConfig(source, { sections, env, baseDir });
    const { apisFromSections } = await import('./builtin-sections.js');
    // A service's own API replaces the built-in of the same name, in the built-in's place
    // (auth stays first, so its hooks reach the APIs mounted after it).
    const given = new Map(apis.map((api) => [api.name, api]));
    const builtins = (await apisFromSections(config)).map((api) => given.get(api.name) ?? api);
    const extra = apis.filter((api) => !builtins.includes(api));
    return new FusionServer({ ...rest, config, apis: [...builtins, ...extra] });
  }

  /** Mounts `api` as an encapsulated plugin (before start); APIs load in the order mounted. */
  mount(api: FusionAPI): this {
    if (this.#starting) throw new Error(`FusionServer: cannot mount API '${api.name}' after start()`);
    if (typeof api?.setup !== 'function' || typeof api.name !== 'string' || api.name === '') {
      throw new TypeError('FusionServer: an API must extend FusionAPI (a non-empty name and a setup method)');
    }
    if (this.#apis.some((other) => other.name === api.name)) throw new Error(`FusionServer: an API named '${api.name}' is already mounted`);
    const plugin: FastifyPluginAsync = async (app) => {
      await api.setup(app, this);
    };
    Object.defineProperty(plugin, Symbol.for('fastify.display-name'), { value: `fusion-${api.name}` });
    this.fastify.register(plugin);
    this.#apis.push(api);
    return this;
  }

  /** The open storage; throws until `start()` has opened it. */
  get storage(): FusionStorage {
    if (this.#storage === null) {
      throw new FusionError('FUSION_ERR_UNAVAILABLE', 'storage is not open yet: call server.start() (or listen()) first');
    }
    return this.#storage;
  }

  /** True once storage is open (start() reached that point). */
  get hasStorage(): boolean {
    return this.#storage !== null;
  }

  /** Installs the authorizer route() asks for non-public routes (the auth API calls it in setup). */
  setAuthorizer(authorizer: FusionAuthorizer | null): void {
    this.authorizer = authorizer;
  }

  /** Installs the event publisher the case API and services notify through (the event API calls it in setup). */
  setEventNotifier(notifier: EventNotifier | null): void {
    this.eventNotifier = notifier;
  }

  /** Installs the function loadCase delegates to (the case API calls it in setup). */
  setCaseLoader(loader: CaseLoader | null): void {
    this.#caseLoader = loader;
  }

  /** The mounted API that is an instance of `type` (the first one), or undefined. */
  findApi<T>(type: abstract new (...args: never[]) => T): T | undefined {
    return this.#apis.find((api): api is FusionAPI & T => api instanceof type);
  }

  /**
   * Registers tasks that run with the HTTP server: started once it listens (startup tasks
   * first), stopped on close (shutdown tasks run before the APIs and storage close). A server
   * that is only started, never listening, does not run them. Checked now; before listen().
   */
  addTask(...tasks: FusionTask[]): this {
    this.#tasks.add(tasks);
    return this;
  }

  /** The tasks registered with addTask, in registration order. */
  get tasks(): readonly FusionTask[] {
    return this.#tasks.list;
  }

  /** The runner of the server's tasks once listening (null before, or without tasks): its events report runs and failures. */
  get taskRunner(): FusionTaskRunner | null {
    return this.#tasks.runner;
  }

  /** Loads a case through the installed loader; default: `storage.retrieveCase(caseClass, guid)`. */
  loadCase(guid: string): Promise<Case | null> {
    if (this.#caseLoader) return this.#caseLoader(guid);
    return this.storage.retrieveCase(this.caseClass, guid);
  }

  /** Adds a public route (`identity` is null) to `app` (an API's scoped instance); see RouteSpec. */
  route<B = unknown, Q = unknown, const P extends readonly string[] = []>(
    app: FastifyInstance,
    spec: RouteSpec<true, P> & { public: true },
    handler: RouteHandler<B, Q, true, P>,
  ): void;
  /** Adds an authorized route (`identity` is set) to `app` (an API's scoped instance); see RouteSpec. */
  route<B = unknown, Q = unknown, const P extends readonly string[] = []>(app: FastifyInstance, spec: RouteSpec<false, P>, handler: RouteHandler<B, Q, false, P>): void;
  /** Adds a route whose `public` is decided at run time (`identity` may be null). */
  route<B = unknown, Q = unknown, const P extends readonly string[] = []>(
    app: FastifyInstance,
    spec: RouteSpec<boolean, P>,
    handler: RouteHandler<B, Q, boolean, P>,
  ): void;
  route<B, Q, P extends readonly string[]>(app: FastifyInstance, spec: RouteSpec<boolean, P>, handler: RouteHandler<B, Q, boolean, P>): void {
    app.route(buildRoute(this, spec, handler));
  }

  /** Opens storage and runs migrations, sets up the APIs, then runs their start(); idempotent. */
  start(): Promise<void> {
    this.#starting ??= this.#start();
    return this.#starting;
  }

  async #start(): Promise<void> {
    try {
      if (this.#storage === null) {
        const { openStorage } = await import('./storage/open-storage.js');
        const { url, schema, poolMax } = this.config.storage;
        this.#storage = await openStorage(url, {
          logger: this.logger,
          baseDir: this.config.baseDir,
          migrations: this.#migrations,
          ...(schema === undefined ? {} : { schema }),
          ...(poolMax === undefined ? {} : { poolMax }),
        });
      }
      await this.#storage.migrate();
      await this.fastify.ready();
      for (const api of this.#apis) await api.start?.(this);
      this.#started = true;
    } catch (error) {
      await this.#release().catch((closeError: unknown) => this.logger.error({ err: closeError }, 'closing after a failed start failed'));
      throw error;
    }
  }

  /** Starts if needed and listens; returns the base URL (`http://127.0.0.1:PORT`). */
  async listen(options: ListenOptions = {}): Promise<string> {
    await this.start();
    const host = options.host ?? this.config.server.host;
    const port = options.port ?? this.config.server.port;
    await this.fastify.listen({ host, port });
    await this.#tasks.start(this.storage, this.logger.child({ module: 'task' }), this.metrics);
    const address = this.fastify.server.address();
    const actualPort = typeof address === 'object' && address !== null ? address.port : port;
    const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
    return `http://${shownHost}:${actualPort}`;
  }

  /** Stops accepting, lets in-flight requests finish, stops the tasks, closes the APIs (reverse order) then storage; idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    await this.#starting?.catch(() => undefined);
    let failure: unknown = null;
    try {
      await this.fastify.close();
    } catch (error) {
      failure = error;
    }
    try {
      await this.#tasks.stop();
    } catch (error) {
      failure ??= error;
    }
    try {
      await this.#release();
    } catch (error) {
      failure ??= error;
    }
    if (failure !== null) throw failure;
  }

  /** Closes the started APIs and the owned storage, logging each failure, throwing the first. */
  async #release(): Promise<void> {
    let failure: unknown = null;
    if (this.#started) {
      for (const api of [...this.#apis].reverse()) {
        try {
          await api.close?.();
        } catch (error) {
          this.logger.error({ err: error, api: api.name }, 'closing an API failed');
          failure ??= error;
        }
      }
      this.#started = false;
    }
    if (this.#storage !== null && this.#ownsStorage) {
      const storage = this.#storage;
      this.#storage = null;
      try {
        await storage.close();
      } catch (error) {
        this.logger.error({ err: error }, 'closing storage failed');
        failure ??= error;
      }
    }
    if (failure !== null) throw failure;
  }

  /**
   * On SIGINT/SIGTERM: close gracefully, then exit (0, or 1 on failure); a second signal or
   * `server.shutdown_timeout` seconds force the exit. For the CLI, not for tests. Returns an uninstaller.
   */
  installSignalHandlers(): () => void {
    let shuttingDown = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (shuttingDown) {
        this.logger.warn({ signal }, 'second signal: exiting now');
        process.exit(1);
      }
      shuttingDown = true;
      this.logger.info({ signal }, 'shutting down');
      const timer = setTimeout(() => {
        this.logger.error({ timeout: this.config.server.shutdownTimeout }, 'shutdown timed out: exiting');
        process.exit(1);
      }, this.config.server.shutdownTimeout * 1000);
      timer.unref();
      this.close().then(
        () => process.exit(0),
        (error: unknown) => {
          this.logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    return () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    };
  }
}

/** fastify's rule for a hop count: trust the first `hops` addresses of X-Forwarded-For. */
function trustHops(hops: number): (address: string, index: number) => boolean {
  return (_address, index) => index < hops;
}

function isParsedConfig(value: unknown): value is FusionConfig {
  const candidate = value as Partial<FusionConfig> | null;
  return typeof candidate === 'object' && candidate !== null && typeof candidate.baseDir === 'string' && typeof candidate.raw === 'object';
}
