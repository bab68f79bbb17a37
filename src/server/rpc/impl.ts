/**
 * FusionRpcAPI: JSON-RPC 2.0 over WebSocket at `GET /api/rpc` (DESIGN.md section 10, guide in
 * docs/rpc.md). Methods (with schemas, client types, operations, streams, cancel, timeouts),
 * reverse requests to a user's clients on any instance, channels with replay, hooks, limits.
 * Connections are rows of the connection registry; channels live in storage (channels.ts).
 * This file holds the API itself (declarations, lifecycle, accepting connections); channel rules
 * and membership, reverse requests and the upgrade check live in their own files.
 */
import { randomUUID } from 'node:crypto';
import websocket from '@fastify/websocket';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { Identity } from '../../concept/index.js';
import { FusionError } from '../../helper/errors.js';
import { every } from '../../helper/timer.js';
import { FusionAPI } from '../api.js';
import type { ConnectionRegistry } from '../connection/registry.js';
import { acquireConnectionRegistry, releaseConnectionRegistry } from '../connection/shared.js';
import type { NotificationChannelOptions } from '../event/notification-channel.js';
import type { FusionHost } from '../host.js';
import { registerBuiltinMethods } from './builtins.js';
import { CaseChannels } from './case-channel.js';
import { ChannelMembership } from './channel-membership.js';
import { ChannelRules } from './channel-rules.js';
import type { RpcChannelOptions } from './channel-rules.js';
import { ChannelHub } from './channels.js';
import type { JoinResult } from './channels.js';
import { readRpcConfig } from './config.js';
import type { FusionRpcConfig } from './config.js';
import { RpcConnection } from './connection.js';
import type { RpcConnectionHost, RpcHooks } from './connection.js';
import type { RpcDefinitions, RpcHandler, RpcMethodOptions } from './define.js';
import { registerMethod } from './methods.js';
import type { RegisteredMethod } from './methods.js';
import { CLOSE_CODES } from './protocol.js';
import type { RpcErrorObject } from './protocol.js';
import { ReverseRequests, deliverReverseRequest } from './reverse-requests.js';
import type { ReverseRequestOptions } from './reverse-requests.js';
import { issueTicket } from './tickets.js';
import { authenticateUpgrade, showRpcRoute, upgradeIdentity } from './upgrade.js';

export type { RpcChannelOptions } from './channel-rules.js';
export type { ReverseAnswer, ReverseOffline, ReverseRequestOptions } from './reverse-requests.js';

/** Options of FusionRpcAPI. */
export interface FusionRpcAPIOptions {
  /** The parsed `rpc` section; default: read from the server's config. */
  config?: FusionRpcConfig;
  /** Connection and frame hooks. */
  hooks?: RpcHooks;
  /** Tuning of the PostgreSQL LISTEN connections (tests shorten the delays). */
  listen?: NotificationChannelOptions;
}

const SHUTDOWN_GRACE_MS = 5000;

/** The RPC API (see the file comment). */
export class FusionRpcAPI extends FusionAPI implements RpcConnectionHost {
  /** The API name. */
  readonly name: string = 'rpc';
  readonly #options: FusionRpcAPIOptions;
  readonly #methods = new Map<string, RegisteredMethod>();
  readonly #rules = new ChannelRules();
  readonly #connections = new Map<string, RpcConnection>();
  readonly #reverse = new ReverseRequests(() => this.#started().registry);
  #config: FusionRpcConfig | null = null;
  #server: FusionHost | null = null;
  #registry: ConnectionRegistry | null = null;
  #registryHost: FusionHost | null = null;
  #hub: ChannelHub | null = null;
  #cases: CaseChannels | null = null;
  #membership: ChannelMembership | null = null;
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
    this.#rules.add(pattern, options);
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
        await authenticateUpgrade(this.#host(), () => this.config, request);
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
    this.#membership = new ChannelMembership({
      host: server,
      hub,
      cases: () => this.#cases,
      rules: this.#rules,
      logger: server.logger,
      authorize: (connection, operation, context) => this.authorize(connection, operation, context),
    });
    if (server.eventNotifier !== null) {
      const cases = new CaseChannels(server, server.logger, listen);
      await cases.start();
      this.#cases = cases;
    }
    registry.handle('rpc', (connectionId, payload) => deliverReverseRequest(this.#connections.get(connectionId), this.#registry, connectionId, payload));
    registry.handleInstance('rpc.reply', (payload) => this.#reverse.onReply(payload));
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
    this.#reverse.close();
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
    return this.#started().membership.presence(first, channel!);
  }

  /**
   * Calls `method` on the client(s) of `username`, wherever connected: `first` asks one
   * connection (this instance's first), and when it is gone or does not handle `method`, the
   * next, and resolves with the first answer (a client error rejects with it); `all` resolves
   * with every connection's answer; no connection anywhere (or every one gone before it
   * answered): `{delivered: false, reason: 'offline'}`; no answer in time: -32008.
   */
  async reverseRequest(username: string, method: string, params: unknown = {}, options: ReverseRequestOptions = {}): Promise<unknown> {
    return this.#reverse.request(username, method, params, options, () => this.config.callTimeout);
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
    return this.#started().membership.join(connection, channel, since);
  }

  /** Leaves a channel. */
  async leave(connection: RpcConnection, channel: string): Promise<boolean> {
    return this.#started().membership.leave(connection, channel);
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
    this.#membership?.forget(connection);
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

  #started(): { registry: ConnectionRegistry; hub: ChannelHub; membership: ChannelMembership } {
    if (this.#registry === null || this.#hub === null || this.#membership === null) {
      throw new FusionError('FUSION_ERR_UNAVAILABLE', 'the rpc API is not started: call server.start() (or listen()) first');
    }
    return { registry: this.#registry, hub: this.#hub, membership: this.#membership };
  }

  #accept(socket: WebSocket, request: FastifyRequest): void {
    const identity = upgradeIdentity(request);
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

  async #closeConnections(): Promise<void> {
    this.#shuttingDown = true;
    const connections = [...this.#connections.values()];
    await Promise.allSettled(connections.map((connection) => connection.shutdown(CLOSE_CODES.goingAway, 'the server is shutting down', SHUTDOWN_GRACE_MS)));
  }
}
