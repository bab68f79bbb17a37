/**
 * FusionTcpGateway: framed TCP (and TLS) listeners for devices that speak neither HTTP nor
 * WebSocket. Frames go through after-receive hooks, the first one is classified into a client
 * type, and each frame reaches the handler of its connection's type (or the default one).
 * The gateway holds the registrations and the connections' lifecycle; the jobs are beside it:
 * router.ts (the frame pipeline), listener.ts, registry-link.ts (registry rows, delivery on
 * any instance) and channels.ts (connections as members of RPC channels).
 */
import type { Socket } from 'node:net';
import type { AfterReceiveHook, BeforeSendHook } from '../../helper/frame-hooks.js';
import { checkFraming } from '../../helper/framing.js';
import type { CustomFraming, TcpFrame } from '../../helper/framing.js';
import { createLogger } from '../../helper/logging.js';
import type { FusionLogger } from '../../helper/logging.js';
import { runInOrder } from '../../helper/serial-tasks.js';
import { TcpChannels } from './channels.js';
import type { TcpChannelEncoder, TcpChannelHub, TcpJoinResult } from './channels.js';
import { FusionTcpConnection } from './connection.js';
import type { TcpConnectionOwner } from './connection.js';
import { startListener, stopListener } from './listener.js';
import type { RunningListener, TcpListener } from './listener.js';
import { resolveListenerOptions } from './listener-options.js';
import type { ResolvedTcpListenerOptions, TcpListenerOptions } from './listener-options.js';
import { TcpRegistryLink, targetMatches } from './registry-link.js';
import type { TcpConnectionRegistry, TcpTarget } from './registry-link.js';
import { TcpRouter } from './router.js';
import type { TcpClassifier, TcpMessageHandler } from './router.js';

/** Runs when a connection is accepted, before its first frame is handled. */
export type TcpConnectHandler = (connection: FusionTcpConnection) => unknown;
/** Runs once a connection is closed, after its last frame was handled; `reason` says why it closed. */
export type TcpDisconnectHandler = (connection: FusionTcpConnection, reason: string) => unknown;

/** Options of a FusionTcpGateway. */
export interface FusionTcpGatewayOptions {
  /** Logger (default: a child of the root logger, module `server.tcp`). */
  logger?: FusionLogger;
}

function checkFunction(name: string, value: unknown): void {
  if (typeof value !== 'function') throw new TypeError(`${name} expects a function, got ${typeof value}`);
}

/** Framed TCP/TLS listeners with hooks, classification by first message and per-type handlers. */
export class FusionTcpGateway {
  readonly #connections = new Map<string, FusionTcpConnection>();
  readonly #listeners: RunningListener[] = [];
  readonly #connectHandlers: TcpConnectHandler[] = [];
  readonly #disconnectHandlers: TcpDisconnectHandler[] = [];
  readonly #beforeSend: BeforeSendHook<FusionTcpConnection>[] = [];
  readonly #framings = new Map<string, CustomFraming>();
  #logger: FusionLogger;
  #closing = false;
  readonly #registry: TcpRegistryLink;
  readonly #channels: TcpChannels;
  readonly #router: TcpRouter;
  readonly #owner: TcpConnectionOwner;

  constructor(options: FusionTcpGatewayOptions = {}) {
    this.#logger = options.logger ?? createLogger().child({ module: 'server.tcp' });
    const logger = (): FusionLogger => this.#logger;
    this.#registry = new TcpRegistryLink(this.#connections, logger);
    this.#channels = new TcpChannels(logger);
    this.#router = new TcpRouter(logger, (connection) => this.#registry.classified(connection));
    this.#owner = {
      get logger() {
        return logger();
      },
      beforeSend: this.#beforeSend,
      connected: (connection) => this.#connected(connection),
      received: (connection, frame) => this.#router.received(connection, frame),
      disconnected: (connection, reason) => this.#disconnected(connection, reason),
      identified: (connection) => this.#registry.identified(connection),
    };
  }

  /** Replaces the logger (the TCP API gives the server's). */
  setLogger(logger: FusionLogger): void {
    this.#logger = logger;
  }

  /** Adds a handler run when a connection is accepted (handlers run in the order added). */
  onConnect(handler: TcpConnectHandler): this {
    checkFunction('onConnect', handler);
    this.#connectHandlers.push(handler);
    return this;
  }

  /** Sets the default message handler, or with a client type the handler of that type's connections. */
  onMessage(handler: TcpMessageHandler): this;
  onMessage(clientType: string, handler: TcpMessageHandler): this;
  onMessage(typeOrHandler: string | TcpMessageHandler, maybeHandler?: TcpMessageHandler): this {
    if (typeof typeOrHandler === 'function') {
      this.#router.defaultHandler = typeOrHandler;
      return this;
    }
    if (typeof typeOrHandler !== 'string' || typeOrHandler === '') throw new TypeError('onMessage expects a client type (non-empty string) and a handler');
    checkFunction('onMessage', maybeHandler);
    this.#router.typeHandlers.set(typeOrHandler, maybeHandler!);
    return this;
  }

  /** Adds a handler run once a connection is closed (with the reason). */
  onDisconnect(handler: TcpDisconnectHandler): this {
    checkFunction('onDisconnect', handler);
    this.#disconnectHandlers.push(handler);
    return this;
  }

  /** Adds a transform of received frames (run in the order added, before classification); null refuses the frame. */
  afterReceive(hook: AfterReceiveHook<FusionTcpConnection>): this {
    checkFunction('afterReceive', hook);
    this.#router.afterReceive.push(hook);
    return this;
  }

  /** Adds a synchronous transform of outgoing frames (run in the order added); null refuses the frame. */
  beforeSend(hook: BeforeSendHook<FusionTcpConnection>): this {
    checkFunction('beforeSend', hook);
    this.#beforeSend.push(hook);
    return this;
  }

  /** Sets the function that names a connection's client type from its first frame. */
  classify(classifier: TcpClassifier): this {
    checkFunction('classify', classifier);
    this.#router.classifier = classifier;
    return this;
  }

  /** Names a custom framing so config listeners can use it (`framing: custom`, `splitter: NAME`). */
  defineFraming(name: string, framing: CustomFraming): this {
    checkFraming(framing);
    this.#framings.set(name, framing);
    return this;
  }

  /** The custom framing defined under `name`, or undefined. */
  framing(name: string): CustomFraming | undefined {
    return this.#framings.get(name);
  }

  /** Starts a listener (plain TCP, or TLS when `options.tls` is set) and resolves once it is bound. */
  async listen(options: TcpListenerOptions): Promise<TcpListener> {
    if (this.#closing) throw new Error('the gateway is closed');
    const resolved = resolveListenerOptions(options);
    const listener = await startListener(resolved, (socket) => this.#accept(socket, resolved), this.#logger);
    this.#listeners.push(listener);
    return listener;
  }

  /** The started listeners, in start order. */
  get listeners(): readonly TcpListener[] {
    return this.#listeners;
  }

  /** The open connections of this gateway (this instance only). */
  get connections(): ReadonlyMap<string, FusionTcpConnection> {
    return this.#connections;
  }

  /**
   * Sends `frame` to the target's connections on this instance (see `deliver` for every
   * instance). Returns how many connections took it (a before-send hook may refuse it).
   */
  send(target: TcpTarget, frame: TcpFrame): number {
    if ('connectionId' in target) {
      const connection = this.#connections.get(target.connectionId);
      return connection?.send(frame) ? 1 : 0;
    }
    let sent = 0;
    for (const connection of this.#connections.values()) {
      if (targetMatches(connection, target) && connection.send(frame)) sent++;
    }
    return sent;
  }

  /**
   * Sends `frame` to the target's connections on whichever instance holds them, through the
   * connection registry (the payload is stored, then signalled); resolves with the ids of the
   * connections it was routed to. Without a registry, on this instance only.
   */
  deliver(target: TcpTarget, frame: TcpFrame): Promise<string[]> {
    return this.#registry.deliver(target, frame);
  }

  /**
   * Lists this gateway's connections in `registry` (kind `tcp`, client type, identity, remote
   * address) and takes the frames other instances deliver to them. FusionTcpAPI attaches the
   * server's shared registry at start; attach before `listen` so every connection is listed.
   */
  attachRegistry(registry: TcpConnectionRegistry | null): void {
    this.#registry.attach(registry);
  }

  /**
   * Sets where `join` finds channels: the RPC API's hub (FusionTcpAPI attaches it at start when
   * the `rpc` section is mounted). A function, looked up at each join; null detaches.
   */
  attachChannels(hub: (() => TcpChannelHub | null) | null): void {
    this.#channels.attach(hub);
  }

  /**
   * Puts `connection` in `channel`, beside RPC members: `rpc.broadcast(channel, data)` on any
   * instance then reaches it as a frame (see `encodeChannelMessage`), and presence lists its
   * identity. Live messages only (no replay); membership ends when the connection closes.
   * Needs the RPC API and the connection registry (FUSION_ERR_UNAVAILABLE otherwise).
   */
  join(connection: FusionTcpConnection, channel: string): Promise<TcpJoinResult> {
    return this.#channels.join(connection, channel, this.#registry.attached ? this.#registry.settled(connection) : null);
  }

  /** Takes `connection` out of `channel`; false when it was not in it. */
  leave(connection: FusionTcpConnection, channel: string): Promise<boolean> {
    return this.#channels.leave(connection, channel);
  }

  /** The channels `connection` joined (and has not left). */
  channelsOf(connection: FusionTcpConnection): string[] {
    return this.#channels.of(connection);
  }

  /**
   * Sets how a channel message becomes a frame for a TCP member (default: JSON text
   * `{"channel","id","data"}`, one line with line framing); null skips that member. The frame
   * then goes through the before-send hooks and the listener's framing.
   */
  encodeChannelMessage(encoder: TcpChannelEncoder): this {
    checkFunction('encodeChannelMessage', encoder);
    this.#channels.encodeWith(encoder);
    return this;
  }

  /** Stops the listeners, closes every connection (reason `shutdown`) and waits for their onDisconnect handlers. */
  async close(): Promise<void> {
    this.#closing = true;
    const stopped = this.#listeners.map(stopListener);
    const connections = [...this.#connections.values()];
    for (const connection of connections) connection.close('shutdown');
    await Promise.all([...stopped, ...connections.map((connection) => connection.done)]);
    this.#listeners.length = 0;
  }

  #accept(socket: Socket, options: ResolvedTcpListenerOptions): void {
    if (this.#closing) {
      socket.destroy();
      return;
    }
    const connection = new FusionTcpConnection(socket, options, this.#owner);
    this.#connections.set(connection.id, connection);
    this.#logger.debug({ connection: connection.id, listener: options.name, remote: connection.remoteAddress }, 'tcp connection accepted');
  }

  #connected(connection: FusionTcpConnection): unknown {
    this.#registry.added(connection);
    return runInOrder(this.#connectHandlers, (handler) => handler(connection));
  }

  #disconnected(connection: FusionTcpConnection, reason: string): unknown {
    this.#connections.delete(connection.id);
    this.#logger.info({ connection: connection.id, listener: connection.listener, remote: connection.remoteAddress, client_type: connection.clientType, reason }, 'tcp connection closed');
    this.#channels.forget(connection);
    const removed = this.#registry.removed(connection);
    const handled = runInOrder(this.#disconnectHandlers, (handler) => handler(connection, reason));
    return removed === undefined ? handled : Promise.all([removed, handled]);
  }
}
