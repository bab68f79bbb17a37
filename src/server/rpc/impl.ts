/**
 * FusionRpcAPI: JSON-RPC 2.0 over WebSocket at `GET /api/rpc` (DESIGN.md section 10, guide in
 * docs/rpc.md). Methods (with schemas, client types, operations, streams, cancel, timeouts),
 * reverse requests to a user's clients on any instance, channels with replay, hooks, limits.
 * Connections are rows of the connection registry; channels live in storage (channels.ts).
 */
import { randomUUID } from 'node:crypto';
import websocket from '@fastify/websocket';
import { SpanKind } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { Identity } from '../../concept/index.js';
import { FUSION_ERRORS, FusionError, isFusionError } from '../../helper/errors.js';
import type { FusionErrorCode } from '../../helper/errors.js';
import { currentTraceCarrier, traceCarrierOf, withSpan } from '../../helper/telemetry.js';
import { every } from '../../helper/timer.js';
import { FusionAPI } from '../api.js';
import type { ConnectionRegistry, ConnectionSelector } from '../connection/registry.js';
import { acquireConnectionRegistry, releaseConnectionRegistry } from '../connection/shared.js';
import type { NotificationChannelOptions } from '../event/notification-channel.js';
import type { FusionHost } from '../host.js';
import { registerBuiltinMethods } from './builtins.js';
import { CASE_CHANNEL, CaseChannels, authorizeCaseChannel } from './case-channel.js';
import { ChannelHub } from './channels.js';
import type { JoinResult } from './channels.js';
import { readRpcConfig } from './config.js';
import type { FusionRpcConfig } from './config.js';
import { RpcConnection } from './connection.js';
import type { RpcConnectionHost, RpcHooks } from './connection.js';
import type { RpcConnectionInfo, RpcDefinitions, RpcHandler, RpcMethodOptions } from './define.js';
import { registerMethod } from './methods.js';
import type { RegisteredMethod } from './methods.js';
import { CLOSE_CODES, RpcError, protocolError } from './protocol.js';
import type { RpcErrorObject } from './protocol.js';
import { credentialHeaders, issueTicket, redeemTicket } from './tickets.js';
import { openApiTransform } from '../route-openapi.js';
import type { SwaggerTransform } from '../route-openapi.js';

const rpcRouteDoc = openApiTransform({ method: 'GET', errors: ['FUSION_ERR_RPC_TICKET', 'FUSION_ERR_RPC_ORIGIN'] });
/** @fastify/websocket hides WebSocket routes from the OpenAPI document; this one is the API's entry point, so it is shown. */
const showRpcRoute: SwaggerTransform = (input) => {
  const { schema, url } = rpcRouteDoc(input);
  const { hide: _hide, ...shown } = schema;
  return { schema: shown, url };
};

/** Who may join channels matching a pattern. */
export interface RpcChannelOptions {
  /** Return true to let `identity` join `channel` (default: any authenticated connection). */
  authorize?(context: { identity: Identity; connection: RpcConnectionInfo; channel: string }): boolean | Promise<boolean>;
}

/** Options of FusionRpcAPI. */
export interface FusionRpcAPIOptions {
  /** The parsed `rpc` section; default: read from the server's config. */
  config?: FusionRpcConfig;
  /** Connection and frame hooks. */
  hooks?: RpcHooks;
  /** Tuning of the PostgreSQL LISTEN connections (tests shorten the delays). */
  listen?: NotificationChannelOptions;
}

/** Options of reverseRequest. */
export interface ReverseRequestOptions {
  /** Seconds to wait for the answer(s) (default rpc.call_timeout). */
  timeout?: number;
  /** `first` (default): one connection of the user (this instance's first); `all`: every connection, every answer. */
  target?: 'first' | 'all';
}

/** One connection's answer to a reverse request sent with `target: 'all'`. */
export interface ReverseAnswer {
  connection: string;
  result?: unknown;
  error?: RpcErrorObject;
}

/** What reverseRequest resolves with when nobody could be asked. */
export interface ReverseOffline {
  delivered: false;
  reason: 'offline';
}

interface ReverseWaiter {
  expected: number;
  answers: ReverseAnswer[];
  done(): void;
}

interface ChannelRule {
  pattern: RegExp;
  options: RpcChannelOptions;
}

const SHUTDOWN_GRACE_MS = 5000;

function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^]*');
  return new RegExp(`^${escaped}$`);
}

/** The RPC API (see the file comment). */
export class FusionRpcAPI extends FusionAPI implements RpcConnectionHost {
  /** The API name. */
  readonly name: string = 'rpc';
  readonly #options: FusionRpcAPIOptions;
  readonly #methods = new Map<string, RegisteredMethod>();
  readonly #channels: ChannelRule[] = [];
  readonly #connections = new Map<string, RpcConnection>();
  readonly #waiters = new Map<string, ReverseWaiter>();
  #config: FusionRpcConfig | null = null;
  #server: FusionHost | null = null;
  #registry: ConnectionRegistry | null = null;
  #registryHost: FusionHost | null = null;
  #hub: ChannelHub | null = null;
  #cases: CaseChannels | null = null;
  #stop: AbortController | null = null;
  #loops: Promise<void>[] = [];
  #pings: NodeJS.Timeout | null = null;
  #shuttingDown = false;

  constructor(options: FusionRpcAPIOptions = {}) {
    super();
    if (typeof options !== 'object' || options === null) throw new TypeError('FusionRpcAPI: options must be an object');
    this.#options = { ...options };
  }

  /** The settings in force (after setup). */
  get config(): FusionRpcConfig {
    if (this.#config === null) throw new Error('FusionRpcAPI: config is available once the API is set up');
    return this.#config;
  }

  /** The server's logger. */
  get logger(): FusionHost['logger'] {
    return this.#host().logger;
  }

  /** The hooks in force. */
  get hooks(): RpcHooks {
    return this.#options.hooks ?? {};
  }

  /** The connection registry (after start). */
  get registry(): ConnectionRegistry {
    if (this.#registry === null) throw new FusionError('FUSION_ERR_UNAVAILABLE', 'the rpc API is not started');
    return this.#registry;
  }

  /** The channel hub (once started): the TCP gateway puts its connections in channels there (`gateway.join`). */
  get channelHub(): ChannelHub | null {
    return this.#hub;
  }

  /** Open connections on this instance. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Declares method `name`; the handler may return a value, a promise, or an async generator (a stream). */
  method<P = unknown, R = unknown>(name: string, options: RpcMethodOptions, handler: RpcHandler<P, R>): this {
    if (this.#methods.has(name)) throw new TypeError(`rpc.method: ${name} is declared twice`);
    this.#methods.set(name, registerMethod(name, options ?? {}, handler as RpcHandler<never, unknown>));
    return this;
  }

  /** Declares every method of a `defineRpc({...})` table. */
  register(definitions: RpcDefinitions): this {
    for (const [name, { handler, ...options }] of Object.entries(definitions)) this.method(name, options, handler);
    return this;
  }

  /** Lets connections join channels matching `pattern` (`*` matches any text, or a RegExp) when `authorize` agrees. */
  channel(pattern: string | RegExp, options: RpcChannelOptions = {}): this {
    this.#channels.push({ pattern: typeof pattern === 'string' ? globToRegExp(pattern) : pattern, options });
    return this;
  }

  /** The method `name`, or undefined. */
  findMethod(name: string): RegisteredMethod | undefined {
    return this.#methods.get(name);
  }

  /** Registers built-ins (rpc.join/leave/presence, info, case) that do not follow the public name rule. */
  addBuiltin(method: RegisteredMethod): void {
    this.#methods.set(method.name, method);
  }

  /** Reads the config, mounts the WebSocket route, the ticket route and the graceful close. */
  async setup(app: FastifyInstance, server: FusionHost): Promise<void> {
    this.#server = server;
    const config = this.#options.config ?? readRpcConfig(server.config.raw.rpc ?? {}, { baseDir: server.config.baseDir });
    this.#config = config;
    registerBuiltinMethods(this, server);
    await app.register(websocket, {
      options: { maxPayload: config.maxFrameBytes },
      preClose: async () => {
        await this.#closeConnections();
        app.websocketServer.close();
      },
    });
    app.route({
      method: 'GET',
      url: '/api/rpc',
      websocket: true,
      schema: { summary: 'JSON-RPC 2.0 over a WebSocket (Upgrade: websocket; browsers pass ?ticket=); see docs/rpc.md', tags: ['rpc'] },
      config: { swaggerTransform: showRpcRoute },
      preValidation: async (request) => {
        await this.#authenticateUpgrade(request);
      },
      handler: (socket, request) => this.#accept(socket, request),
    });
    server.route(
      app,
      { method: 'POST', url: '/api/rpc/ticket', operation: 'rpc_ticket', summary: 'A one-use ticket (30 s) to open GET /api/rpc?ticket=... from a browser' },
      async (ctx) => ({ ticket: await issueTicket(server.storage, ctx.request) }),
    );
  }

  /** Starts the registry, the channels, the prune task and the heartbeat. */
  override async start(server: FusionHost): Promise<void> {
    const config = this.config;
    const listen = this.#options.listen;
    // The server's one registry, shared with the TCP gateway: two on one instance would drain each other's rows.
    const registry = await acquireConnectionRegistry(server, { lease: config.lease, ...(listen ? { listen } : {}) });
    this.#registry = registry;
    this.#registryHost = server;
    const hub = new ChannelHub({ storage: server.storage, logger: server.logger, ...(listen ? { listen } : {}) });
    await hub.start();
    this.#hub = hub;
    if (server.eventNotifier !== null) {
      const cases = new CaseChannels(server, server.logger, listen);
      await cases.start();
      this.#cases = cases;
    }
    registry.handle('rpc', (connectionId, payload) => this.#onDelivery(connectionId, payload));
    registry.handleInstance('rpc.reply', (payload) => this.#onReply(payload));
    this.#stop = new AbortController();
    const pruneEvery = Math.max(1, Math.min(300, config.retention / 4)) * 1000;
    this.#loops = [
      every(pruneEvery, () => this.prune(), { signal: this.#stop.signal, onError: (error) => server.logger.warn({ err: error }, 'rpc: prune failed') }),
    ];
    this.#pings = setInterval(() => {
      for (const connection of this.#connections.values()) connection.heartbeat();
    }, config.heartbeatInterval * 1000);
    this.#pings.unref();
  }

  /** Closes what is left (the route's preClose closed the sockets), the channels and the registry. */
  override async close(): Promise<void> {
    this.#stop?.abort();
    if (this.#pings) clearInterval(this.#pings);
    this.#pings = null;
    await this.#closeConnections();
    await Promise.allSettled(this.#loops);
    await this.#cases?.close();
    await this.#hub?.close();
    const host = this.#registryHost;
    this.#registryHost = null;
    if (host) await releaseConnectionRegistry(host);
    for (const waiter of this.#waiters.values()) waiter.done();
  }

  /** Deletes channel messages past `rpc.retention` (one instance at a time); returns how many went. */
  async prune(): Promise<number> {
    const server = this.#host();
    const attempt = await server.storage.tryAdvisoryLock('fusion:rpc:prune', () => this.#started().hub.prune(this.config.retention));
    return attempt.acquired ? attempt.value : 0;
  }

  /** Stores `data` in `channel` and sends it to its members on every instance; returns the message id. */
  broadcast(channel: string, data: unknown): Promise<number> {
    return this.#started().hub.broadcast(channel, data);
  }

  /** Usernames in `channel` on every instance. */
  presence(channel: string): Promise<string[]>;
  /** (Connection form, used by `rpc.presence`.) */
  presence(connection: RpcConnection, channel: string): Promise<string[]>;
  async presence(first: string | RpcConnection, channel?: string): Promise<string[]> {
    if (typeof first === 'string') return this.#started().hub.presence(first);
    await this.#authorizeChannel(first, channel!);
    return this.#started().hub.presence(channel!);
  }

  /**
   * Calls `method` on the client(s) of `username`, wherever connected: `first` asks one
   * connection (this instance's first), and when it is gone or does not handle `method`, the
   * next, and resolves with the first answer (a client error rejects with it); `all` resolves
   * with every connection's answer; no connection anywhere (or every one gone before it
   * answered): `{delivered: false, reason: 'offline'}`; no answer in time: -32008.
   */
  async reverseRequest(username: string, method: string, params: unknown = {}, options: ReverseRequestOptions = {}): Promise<unknown> {
    const target = options.target ?? 'first';
    if (target !== 'first' && target !== 'all') throw new TypeError(`reverseRequest: target must be 'first' or 'all', got ${JSON.stringify(target)}`);
    const attributes = { 'rpc.system': 'jsonrpc', 'rpc.method': method, 'enduser.id': username, 'fusion.rpc.target': target };
    return withSpan(
      'fusion.rpc.reverse_request',
      attributes,
      async (span) => {
        const result = await this.#reverseRequest(username, method, params, target, options.timeout ?? this.config.callTimeout);
        const offline = typeof result === 'object' && result !== null && (result as Partial<ReverseOffline>).delivered === false;
        span.setAttribute('fusion.rpc.outcome', offline ? 'offline' : 'answered');
        return result;
      },
      { kind: SpanKind.CLIENT },
    );
  }

  async #reverseRequest(username: string, method: string, params: unknown, target: 'first' | 'all', seconds: number): Promise<unknown> {
    const { registry } = this.#started();
    const deadline = Date.now() + seconds * 1000;
    const offline: ReverseOffline = { delivered: false, reason: 'offline' };
    if (target === 'all') {
      const { routed, answers } = await this.#ask({ username, kind: 'rpc' }, method, params, deadline, false);
      if (routed.length === 0) return offline;
      const missing = routed.filter((id) => !answers.some((a) => a.connection === id));
      return [
        ...answers,
        ...missing.map((connection) => ({ connection, error: { code: -32008, message: `no answer within ${seconds} s`, data: { code: 'FUSION_ERR_TIMEOUT' } } })),
      ];
    }
    const tried = new Set<string>();
    let refusal: RpcErrorObject | null = null;
    for (let attempt = 0; ; attempt++) {
      let to: string | ConnectionSelector = { username, kind: 'rpc' };
      if (attempt > 0) {
        // The user's other connections, this instance's first (no storage round trip to reach them).
        const next = (await registry.list({ username, kind: 'rpc' }))
          .filter((record) => !tried.has(record.id))
          .sort((x, y) => Number(registry.isLocal(y.id)) - Number(registry.isLocal(x.id)))[0];
        if (next === undefined) break;
        to = next.id;
      }
      const { routed, answers } = await this.#ask(to, method, params, deadline, true);
      if (routed.length === 0) {
        if (typeof to !== 'string') break; // nobody at all
        tried.add(to); // gone between the listing and the delivery: the next one
        continue;
      }
      for (const id of routed) tried.add(id);
      const answer = answers[0];
      if (answer === undefined) throw protocolError.timeout(seconds);
      if (answer.error === undefined) return answer.result;
      if (!isNextConnectionWorthTrying(answer.error)) throw reverseError(answer.error);
      if (answer.error.code === -32601) refusal = answer.error;
      if (Date.now() >= deadline) throw protocolError.timeout(seconds);
    }
    // Nobody left to ask: gone everywhere is offline; connections that do not handle the method say so.
    if (refusal !== null) throw reverseError(refusal);
    return offline;
  }

  /** Delivers one reverse request and waits until every connection it reached answered or `deadline` passed. */
  async #ask(to: string | ConnectionSelector, method: string, params: unknown, deadline: number, first: boolean): Promise<{ routed: string[]; answers: ReverseAnswer[] }> {
    const registry = this.registry;
    const rid = randomUUID();
    const answers: ReverseAnswer[] = [];
    let done!: () => void;
    const finished = new Promise<void>((resolve) => {
      done = resolve;
    });
    this.#waiters.set(rid, { expected: Number.POSITIVE_INFINITY, answers, done });
    let timer: NodeJS.Timeout | undefined;
    try {
      // The reverse_request span's context travels with the delivery (maybe to another instance) into the frame.
      const trace = currentTraceCarrier();
      const routed = await registry.deliver(to, { rid, from: registry.instanceId, method, params, ...(trace === null ? {} : { trace }) }, { first });
      if (routed.length === 0) return { routed, answers };
      this.#waiters.get(rid)!.expected = routed.length;
      if (answers.length >= routed.length) done();
      await Promise.race([
        finished,
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
        }),
      ]);
      return { routed, answers: [...answers] };
    } finally {
      clearTimeout(timer);
      this.#waiters.delete(rid);
    }
  }

  // RpcConnectionHost (called by the connections)

  /** Authorizes `operation` with the connection's credentials. */
  async authorize(connection: RpcConnection, operation: string, context: Record<string, unknown> = {}): Promise<Identity> {
    const authorizer = this.#host().authorizer;
    if (authorizer === null) return connection.identity;
    return authorizer.authorize(connection.request, operation, context);
  }

  /** Joins a channel after its authorization hook. */
  async join(connection: RpcConnection, channel: string, since: number | null): Promise<JoinResult> {
    const { hub } = this.#started();
    const identity = await this.#authorizeChannel(connection, channel);
    if (this.#isCaseChannel(channel)) {
      await hub.addMember(channel, connection.id, connection.identity.username);
      const { last_id } = await this.#cases!.join(channel, connection, since, identity, () => this.#revoked(connection, channel));
      connection.channels.add(channel);
      return { members: await hub.presence(channel), last_id };
    }
    const result = await hub.join(channel, connection, connection.identity.username, since);
    connection.channels.add(channel);
    return result;
  }

  /** Leaves a channel. */
  async leave(connection: RpcConnection, channel: string): Promise<boolean> {
    const { hub } = this.#started();
    connection.channels.delete(channel);
    if (this.#isCaseChannel(channel)) {
      const was = this.#cases!.leave(channel, connection);
      await hub.removeMember(channel, connection.id);
      return was;
    }
    return hub.leave(channel, connection);
  }

  /** Channels with members on this instance (rooms close when their last local member leaves). */
  get roomCount(): number {
    return this.#hub?.roomCount ?? 0;
  }

  /** Records the client type in the registry. */
  classified(connection: RpcConnection): void {
    this.#registry?.update(connection.id, { clientType: connection.clientType }).catch((error: unknown) => this.logger.warn({ err: error }, 'rpc: recording the client type failed'));
  }

  /** Routes a reverse-request answer to the instance that asked. */
  reverseAnswered(connection: RpcConnection, from: string, rid: string, answer: { result?: unknown; error?: RpcErrorObject }): void {
    this.#registry
      ?.sendToInstance(from, 'rpc.reply', { rid, connection: connection.id, ...answer })
      .catch((error: unknown) => this.logger.warn({ err: error }, 'rpc: routing a reverse-request answer failed'));
  }

  /** Forgets a closed connection. */
  closed(connection: RpcConnection, code: number, reason: string): void {
    this.#connections.delete(connection.id);
    this.#hub?.forget(connection);
    this.#cases?.forget(connection);
    const registry = this.#registry;
    void (async () => {
      try {
        await registry?.remove(connection.id);
      } catch (error) {
        this.logger.warn({ err: error }, 'rpc: removing a connection row failed (it expires with its lease)');
      }
      try {
        await this.hooks.onDisconnect?.(connection, code, reason);
      } catch (error) {
        this.logger.error({ err: error }, 'rpc: onDisconnect threw');
      }
    })();
  }

  #host(): FusionHost {
    if (this.#server === null) throw new Error('FusionRpcAPI: not set up');
    return this.#server;
  }

  #started(): { registry: ConnectionRegistry; hub: ChannelHub } {
    if (this.#registry === null || this.#hub === null) throw new FusionError('FUSION_ERR_UNAVAILABLE', 'the rpc API is not started: call server.start() (or listen()) first');
    return { registry: this.#registry, hub: this.#hub };
  }

  #isCaseChannel(channel: string): boolean {
    return this.#cases !== null && CASE_CHANNEL.test(channel);
  }

  /** The member lost access to the case of `channel` (its ACS changed): out of the channel, and told so. */
  #revoked(connection: RpcConnection, channel: string): void {
    connection.channels.delete(channel);
    connection.left(channel, 'forbidden');
    this.#hub?.removeMember(channel, connection.id).catch((error: unknown) => this.logger.warn({ err: error, channel }, 'rpc: removing a member row failed (it goes with its connection)'));
  }

  /** Throws unless `connection` may join `channel`; returns the identity it joins as. */
  async #authorizeChannel(connection: RpcConnection, channel: string): Promise<Identity> {
    if (this.#isCaseChannel(channel)) {
      return authorizeCaseChannel(this.#host(), (operation, context) => this.authorize(connection, operation, context), channel);
    }
    const rule = this.#channels.find((candidate) => candidate.pattern.test(channel));
    if (rule === undefined) throw new FusionError('FUSION_ERR_FORBIDDEN', `channel ${JSON.stringify(channel.slice(0, 100))} is not declared by the service`);
    let allowed: boolean;
    try {
      allowed = rule.options.authorize === undefined ? true : (await rule.options.authorize({ identity: connection.identity, connection, channel })) === true;
    } catch (error) {
      if (isFusionError(error)) throw error;
      this.logger.error({ err: error, channel }, 'rpc: a channel authorize hook threw; refusing');
      allowed = false;
    }
    if (!allowed) throw new FusionError('FUSION_ERR_FORBIDDEN', `you may not join channel ${JSON.stringify(channel.slice(0, 100))}`);
    return connection.identity;
  }

  /** preValidation of the upgrade: ticket or credentials, the Origin rule, then the authorizer. */
  async #authenticateUpgrade(request: FastifyRequest): Promise<void> {
    const server = this.#host();
    const ticket = (request.query as { ticket?: unknown }).ticket;
    if (ticket !== undefined) {
      const headers = typeof ticket === 'string' ? await redeemTicket(server.storage, ticket) : null;
      if (headers === null) throw new FusionError('FUSION_ERR_RPC_TICKET', 'the ticket is unknown, used or expired: get a new one from POST /api/rpc/ticket');
      for (const name of Object.keys(credentialHeaders(request))) delete request.headers[name];
      Object.assign(request.headers, headers);
    } else {
      this.#checkOrigin(request);
    }
    const authorizer = server.authorizer;
    if (authorizer === null) throw new FusionError('FUSION_ERR_UNAUTHORIZED', 'the rpc API needs an auth section: no identity can be established');
    upgradeIdentities.set(request, await authorizer.authorize(request, 'rpc_connect'));
  }

  /** A cookie-authenticated upgrade from a foreign Origin is refused (cross-site WebSocket hijacking). */
  #checkOrigin(request: FastifyRequest): void {
    const origin = request.headers.origin;
    const headers = request.headers;
    const byCookie = typeof headers.cookie === 'string' && headers['x-fusion-api-token'] === undefined && headers.authorization === undefined;
    if (!byCookie || origin === undefined) return;
    const own = `${request.protocol}://${request.host}`;
    if (origin === own || this.config.allowedOrigins.includes(origin)) return;
    throw new FusionError('FUSION_ERR_RPC_ORIGIN', `origin ${origin.slice(0, 100)} may not open this WebSocket with a cookie (list it in rpc.allowed_origins)`);
  }

  #accept(socket: WebSocket, request: FastifyRequest): void {
    const identity = upgradeIdentities.get(request);
    if (identity === undefined || this.#shuttingDown || this.#registry === null) {
      socket.close(CLOSE_CODES.goingAway, 'the server is not accepting connections');
      return;
    }
    const connection = new RpcConnection({ id: randomUUID(), socket, request, identity, host: this });
    this.#connections.set(connection.id, connection);
    const registered = (async () => {
      try {
        await this.#registry!.add({ id: connection.id, kind: 'rpc', username: identity.username, remoteAddress: request.ip });
        await this.hooks.onConnect?.(connection);
      } catch (error) {
        this.logger.error({ err: error }, 'rpc: accepting a connection failed');
        connection.close(1011, 'the server could not register the connection');
      }
    })();
    connection.waitFor(registered);
  }

  #onDelivery(connectionId: string, payload: unknown): void {
    const { rid, from, method, params, trace } = payload as { rid: string; from: string; method: string; params: unknown; trace?: unknown };
    const connection = this.#connections.get(connectionId);
    if (connection === undefined) {
      void this.#registry?.sendToInstance(from, 'rpc.reply', { rid, connection: connectionId, error: { code: -32010, message: 'the connection closed', data: { code: 'FUSION_ERR_RPC_CANCELLED' } } }).catch(() => undefined);
      return;
    }
    connection.reverseRequest(from, rid, method, params, typeof trace === 'object' && trace !== null ? traceCarrierOf(trace) : null);
  }

  #onReply(payload: unknown): void {
    const answer = payload as ReverseAnswer & { rid: string };
    const waiter = this.#waiters.get(answer.rid);
    if (waiter === undefined) return; // timed out meanwhile
    const { rid: _rid, ...rest } = answer;
    waiter.answers.push(rest);
    if (waiter.answers.length >= waiter.expected) waiter.done();
  }

  async #closeConnections(): Promise<void> {
    this.#shuttingDown = true;
    const connections = [...this.#connections.values()];
    await Promise.allSettled(connections.map((connection) => connection.shutdown(CLOSE_CODES.goingAway, 'the server is shutting down', SHUTDOWN_GRACE_MS)));
  }
}

/** True when a `first` reverse request should go on to the user's next connection: this one is gone or does not handle the method. */
function isNextConnectionWorthTrying(error: RpcErrorObject): boolean {
  const code = error.data?.code;
  return error.code === -32601 || code === 'FUSION_ERR_RPC_CANCELLED' || code === 'FUSION_ERR_CONNECTION';
}

/** The RpcError a client's error answer rejects a reverse request with. */
function reverseError(error: RpcErrorObject): RpcError {
  const code = error.data?.code;
  return new RpcError(error.code, typeof code === 'string' && code in FUSION_ERRORS ? (code as FusionErrorCode) : 'FUSION_ERR_BAD_RESPONSE', error.message);
}

/** The identity each accepted upgrade was authenticated as (preValidation → handler). */
const upgradeIdentities = new WeakMap<FastifyRequest, Identity>();
