/**
 * FusionTcpGateway: framed TCP (and TLS) listeners for devices that speak neither HTTP nor
 * WebSocket. Frames go through after-receive hooks, the first one is classified into a client
 * type, and each frame reaches the handler of its connection's type (or the default one).
 */
import { once } from 'node:events';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { isThenable, runAfterReceive } from '../../helper/frame-hooks.js';
import type { AfterReceiveHook, BeforeSendHook } from '../../helper/frame-hooks.js';
import { checkFraming } from '../../helper/framing.js';
import type { CustomFraming, TcpFrame } from '../../helper/framing.js';
import { createLogger } from '../../helper/logging.js';
import type { FusionLogger } from '../../helper/logging.js';
import type { ConnectionRegistry, ConnectionSelector } from '../connection/registry.js';
import { runInOrder } from '../../helper/serial-tasks.js';
import { FusionTcpConnection } from './connection.js';
import type { TcpConnectionOwner } from './connection.js';
import { resolveListenerOptions } from './listener-options.js';
import type { ResolvedTcpListenerOptions, TcpListenerOptions } from './listener-options.js';

/** Runs when a connection is accepted, before its first frame is handled. */
export type TcpConnectHandler = (connection: FusionTcpConnection) => unknown;
/** Handles one frame of a connection. */
export type TcpMessageHandler = (frame: TcpFrame, connection: FusionTcpConnection) => unknown;
/** Runs once a connection is closed, after its last frame was handled; `reason` says why it closed. */
export type TcpDisconnectHandler = (connection: FusionTcpConnection, reason: string) => unknown;
/** Names the client type of a connection from its first frame; null/undefined leaves it unclassified (default handler). */
export type TcpClassifier = (firstMessage: TcpFrame, connection: FusionTcpConnection) => string | null | undefined | Promise<string | null | undefined>;

/** Where `gateway.send` / `gateway.deliver` go: one connection, every connection of a client type, or of an identity. */
export type TcpTarget = { connectionId: string } | { clientType: string } | { username: string };

/**
 * The part of the connection registry (src/server/connection/registry.ts) the gateway uses:
 * it lists its connections there (kind `tcp`) and receives frames other instances deliver.
 */
export type TcpConnectionRegistry = Pick<ConnectionRegistry, 'add' | 'update' | 'remove' | 'handle' | 'deliver'>;

/** A frame as JSON, to cross instances through the registry. */
type FramePayload = { text: string } | { base64: string };

function toPayload(frame: TcpFrame): FramePayload {
  return typeof frame === 'string' ? { text: frame } : { base64: frame.toString('base64') };
}

function fromPayload(payload: unknown): TcpFrame | null {
  if (typeof payload !== 'object' || payload === null) return null;
  const { text, base64 } = payload as { text?: unknown; base64?: unknown };
  if (typeof text === 'string') return text;
  return typeof base64 === 'string' ? Buffer.from(base64, 'base64') : null;
}

function targetMatches(connection: FusionTcpConnection, target: TcpTarget): boolean {
  if ('connectionId' in target) return connection.id === target.connectionId;
  if ('clientType' in target) return connection.clientType === target.clientType;
  return connection.identity === target.username;
}

/** A started listener: its options and the address it is bound to. */
export interface TcpListener {
  readonly options: ResolvedTcpListenerOptions;
  /** The bound port (the real one when the options said 0). */
  readonly port: number;
  readonly host: string;
}

/** Options of a FusionTcpGateway. */
export interface FusionTcpGatewayOptions {
  /** Logger (default: a child of the root logger, module `server.tcp`). */
  logger?: FusionLogger;
}

interface RunningListener extends TcpListener {
  readonly server: Server;
}

function checkFunction(name: string, value: unknown): void {
  if (typeof value !== 'function') throw new TypeError(`${name} expects a function, got ${typeof value}`);
}

/** Framed TCP/TLS listeners with hooks, classification by first message and per-type handlers. */
export class FusionTcpGateway {
  readonly #connections = new Map<string, FusionTcpConnection>();
  readonly #listeners: RunningListener[] = [];
  readonly #typeHandlers = new Map<string, TcpMessageHandler>();
  readonly #connectHandlers: TcpConnectHandler[] = [];
  readonly #disconnectHandlers: TcpDisconnectHandler[] = [];
  readonly #afterReceive: AfterReceiveHook<FusionTcpConnection>[] = [];
  readonly #beforeSend: BeforeSendHook<FusionTcpConnection>[] = [];
  readonly #framings = new Map<string, CustomFraming>();
  #defaultHandler: TcpMessageHandler | null = null;
  #classifier: TcpClassifier | null = null;
  #logger: FusionLogger;
  #closing = false;
  #registry: TcpConnectionRegistry | null = null;
  #removeDeliveryHandler: (() => void) | null = null;
  /** Per connection, the registry writes so far (each waits for the one before). */
  readonly #registryWrites = new Map<string, Promise<void>>();
  readonly #owner: TcpConnectionOwner;

  constructor(options: FusionTcpGatewayOptions = {}) {
    this.#logger = options.logger ?? createLogger().child({ module: 'server.tcp' });
    const logger = (): FusionLogger => this.#logger;
    this.#owner = {
      get logger() {
        return logger();
      },
      beforeSend: this.#beforeSend,
      connected: (connection) => this.#connected(connection),
      received: (connection, frame) => this.#received(connection, frame),
      disconnected: (connection, reason) => this.#disconnected(connection, reason),
      identified: (connection) => this.#registryWrite(connection, (registry) => registry.update(connection.id, { username: connection.identity })),
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
      this.#defaultHandler = typeOrHandler;
      return this;
    }
    if (typeof typeOrHandler !== 'string' || typeOrHandler === '') throw new TypeError('onMessage expects a client type (non-empty string) and a handler');
    checkFunction('onMessage', maybeHandler);
    this.#typeHandlers.set(typeOrHandler, maybeHandler!);
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
    this.#afterReceive.push(hook);
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
    this.#classifier = classifier;
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
    const accept = (socket: Socket): void => this.#accept(socket, resolved);
    const server = resolved.tls
      ? createTlsServer({ ...resolved.tls, ...(resolved.idleTimeout > 0 ? { handshakeTimeout: resolved.idleTimeout * 1000 } : {}) }, accept)
      : createNetServer(accept);
    server.maxConnections = resolved.maxConnections;
    server.on('drop', (data?: { remoteAddress?: string }) => {
      this.#logger.warn({ listener: resolved.name, remote: data?.remoteAddress, max_connections: resolved.maxConnections }, 'tcp connection refused: max_connections reached');
    });
    server.on('tlsClientError', (error: Error, socket: Socket) => {
      this.#logger.info({ listener: resolved.name, remote: socket.remoteAddress, reason: error.message }, 'tls handshake failed');
    });
    server.listen(resolved.port, resolved.host);
    await Promise.race([once(server, 'listening'), once(server, 'error').then(([error]) => Promise.reject(error as Error))]);
    const address = server.address() as AddressInfo;
    const listener: RunningListener = { options: resolved, port: address.port, host: address.address, server };
    this.#listeners.push(listener);
    this.#logger.info({ listener: resolved.name, host: listener.host, port: listener.port, tls: Boolean(resolved.tls) }, 'tcp listener started');
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
  async deliver(target: TcpTarget, frame: TcpFrame): Promise<string[]> {
    if (this.#registry === null) {
      const local = [...this.#connections.values()].filter((connection) => targetMatches(connection, target));
      return local.filter((connection) => connection.send(frame)).map((connection) => connection.id);
    }
    const selector: ConnectionSelector =
      'connectionId' in target ? { id: target.connectionId, kind: 'tcp' } : 'clientType' in target ? { clientType: target.clientType, kind: 'tcp' } : { username: target.username, kind: 'tcp' };
    return this.#registry.deliver(selector, toPayload(frame));
  }

  /**
   * Lists this gateway's connections in `registry` (kind `tcp`, client type, identity, remote
   * address) and takes the frames other instances deliver to them. FusionTcpAPI attaches the
   * server's shared registry at start; attach before `listen` so every connection is listed.
   */
  attachRegistry(registry: TcpConnectionRegistry | null): void {
    this.#removeDeliveryHandler?.();
    this.#removeDeliveryHandler = null;
    this.#registry = registry;
    if (registry === null) return;
    this.#removeDeliveryHandler = registry.handle('tcp', (connectionId, payload) => {
      const frame = fromPayload(payload);
      const connection = this.#connections.get(connectionId);
      if (frame === null || connection === undefined) return;
      try {
        connection.send(frame);
      } catch (error) {
        this.#logger.warn({ connection: connectionId, err: error }, 'tcp frame from another instance not sent');
      }
    });
  }

  /** Stops the listeners, closes every connection (reason `shutdown`) and waits for their onDisconnect handlers. */
  async close(): Promise<void> {
    this.#closing = true;
    const stopped = this.#listeners.map((listener) => new Promise<void>((resolve) => listener.server.close(() => resolve())));
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
    this.#registryWrite(connection, (registry) =>
      registry.add({ id: connection.id, kind: 'tcp', clientType: connection.clientType, username: connection.identity, remoteAddress: connection.remoteAddress }).then(() => undefined),
    );
    return runInOrder(this.#connectHandlers, (handler) => handler(connection));
  }

  #received(connection: FusionTcpConnection, frame: TcpFrame): unknown {
    const accepted = runAfterReceive(this.#afterReceive, frame, connection);
    return isThenable(accepted) ? accepted.then((value) => this.#route(connection, value)) : this.#route(connection, accepted);
  }

  #route(connection: FusionTcpConnection, frame: TcpFrame | null): unknown {
    if (frame === null) return undefined;
    if (connection.messagesReceived++ > 0) return this.#handle(connection, frame);
    connection.isFirstMessage = true;
    let handled: unknown;
    try {
      const classified = this.#classifier ? this.#classifier(frame, connection) : null;
      handled = isThenable(classified)
        ? classified.then((type) => this.#handleFirst(connection, frame, type))
        : this.#handleFirst(connection, frame, classified);
    } catch (error) {
      connection.isFirstMessage = false;
      throw error;
    }
    if (isThenable(handled)) {
      return Promise.resolve(handled).finally(() => {
        connection.isFirstMessage = false;
      });
    }
    connection.isFirstMessage = false;
    return handled;
  }

  #handleFirst(connection: FusionTcpConnection, frame: TcpFrame, type: string | null | undefined): unknown {
    if (typeof type === 'string' && type !== '') {
      connection.clientType = type;
      this.#registryWrite(connection, (registry) => registry.update(connection.id, { clientType: type }));
    }
    this.#logger.debug({ connection: connection.id, client_type: connection.clientType }, 'tcp connection classified');
    return this.#handle(connection, frame);
  }

  #handle(connection: FusionTcpConnection, frame: TcpFrame): unknown {
    const handler = (connection.clientType !== null ? this.#typeHandlers.get(connection.clientType) : undefined) ?? this.#defaultHandler;
    if (handler === null) {
      this.#logger.debug({ connection: connection.id, client_type: connection.clientType }, 'tcp frame dropped: no handler');
      return undefined;
    }
    return handler(frame, connection);
  }

  #disconnected(connection: FusionTcpConnection, reason: string): unknown {
    this.#connections.delete(connection.id);
    this.#logger.info({ connection: connection.id, listener: connection.listener, remote: connection.remoteAddress, client_type: connection.clientType, reason }, 'tcp connection closed');
    const removed = this.#registryWrite(connection, (registry) => registry.remove(connection.id));
    this.#registryWrites.delete(connection.id);
    const handled = runInOrder(this.#disconnectHandlers, (handler) => handler(connection, reason));
    return removed === undefined ? handled : Promise.all([removed, handled]);
  }

  /** Queues a registry write for `connection` after its earlier ones; failures are logged (the connection works on locally). */
  #registryWrite(connection: FusionTcpConnection, write: (registry: TcpConnectionRegistry) => Promise<void>): Promise<void> | undefined {
    const registry = this.#registry;
    if (registry === null) return undefined;
    const previous = this.#registryWrites.get(connection.id) ?? Promise.resolve();
    const next = previous.then(() => write(registry)).catch((error: unknown) => {
      this.#logger.warn({ connection: connection.id, err: error }, 'tcp connection registry write failed');
    });
    this.#registryWrites.set(connection.id, next);
    return next;
  }
}
