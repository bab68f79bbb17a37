/**
 * FusionTcpClient: the device side of a framed TCP (or TLS) connection, with the gateway's
 * framing and hooks, reconnection with exponential backoff, and a bounded queue of frames sent
 * while disconnected (flushed, in order, after the onConnect handlers of the next connection).
 */
import { connect as netConnect } from 'node:net';
import type { Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { ConnectionOptions } from 'node:tls';
import { FusionError } from '../helper/errors.js';
import { isThenable, runAfterReceive, runBeforeSend } from '../helper/frame-hooks.js';
import type { AfterReceiveHook, BeforeSendHook } from '../helper/frame-hooks.js';
import { FrameCodec, checkFraming } from '../helper/framing.js';
import type { FramingOptions, TcpFrame } from '../helper/framing.js';
import { SerialTasks, runInOrder } from '../helper/serial-tasks.js';

/** Backoff between reconnection attempts: `initialDelay * factor^n`, capped, with jitter (ms). */
export interface TcpReconnectOptions {
  /** Delay before the first retry, ms (default 100). */
  initialDelay?: number;
  /** Largest delay, ms (default 10,000). */
  maxDelay?: number;
  /** Growth per failed attempt (default 2). */
  factor?: number;
}

/** Options of a FusionTcpClient. */
export interface FusionTcpClientOptions {
  host?: string;
  port: number;
  /** TLS: true (verify with system CAs) or `node:tls` connect options (ca, cert, key, servername...). */
  tls?: boolean | ConnectionOptions;
  framing: FramingOptions;
  /** Largest frame accepted or sent, in bytes (default 65,536). */
  maxFrameBytes?: number;
  /** Reconnect after a lost connection (default on); false: a lost connection stays lost. */
  reconnect?: boolean | TcpReconnectOptions;
  /** Frames kept while disconnected; one more throws FUSION_ERR_TCP_QUEUE_FULL (default 1,000). */
  maxQueuedFrames?: number;
  /** Give up one connection attempt after this many ms (default 10,000). */
  connectTimeout?: number;
  /** Called with what a handler or hook threw (default: a process warning); the connection goes on. */
  onError?: (error: unknown) => void;
}

/** Runs on each (re)connection, before queued frames are flushed: send the handshake here. */
export type TcpClientConnectHandler = (client: FusionTcpClient) => unknown;
/** Handles one received frame. */
export type TcpClientMessageHandler = (frame: TcpFrame, client: FusionTcpClient) => unknown;
/** Runs when a connection is lost or closed, with the reason. */
export type TcpClientDisconnectHandler = (client: FusionTcpClient, reason: string) => unknown;

function positive(name: string, value: number, integer: boolean): number {
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) throw new TypeError(`${name} must be ${integer ? 'an integer' : 'a number'} > 0, got ${value}`);
  return value;
}

/** A framed TCP client that reconnects and queues while disconnected. */
export class FusionTcpClient {
  readonly #options: FusionTcpClientOptions;
  readonly #maxFrameBytes: number;
  readonly #maxQueued: number;
  readonly #reconnect: Required<TcpReconnectOptions> | null;
  readonly #connectHandlers: TcpClientConnectHandler[] = [];
  readonly #messageHandlers: TcpClientMessageHandler[] = [];
  readonly #disconnectHandlers: TcpClientDisconnectHandler[] = [];
  readonly #afterReceive: AfterReceiveHook<FusionTcpClient>[] = [];
  readonly #beforeSend: BeforeSendHook<FusionTcpClient>[] = [];
  readonly #queue: Buffer[] = [];
  #socket: Socket | null = null;
  #codec: FrameCodec;
  #open = false;
  #stopped = false;
  #attempt = 0;
  #timer: NodeJS.Timeout | null = null;
  #closeReason: string | null = null;
  #connections = 0;
  #waiters: { resolve: () => void; reject: (error: Error) => void }[] = [];
  readonly #tasks: SerialTasks;

  constructor(options: FusionTcpClientOptions) {
    if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65_535) throw new TypeError(`port must be an integer 1..65535, got ${options.port}`);
    checkFraming(options.framing);
    this.#options = options;
    this.#maxFrameBytes = positive('maxFrameBytes', options.maxFrameBytes ?? 65_536, true);
    this.#maxQueued = positive('maxQueuedFrames', options.maxQueuedFrames ?? 1000, true);
    positive('connectTimeout', options.connectTimeout ?? 10_000, false);
    const reconnect = options.reconnect ?? true;
    this.#reconnect = reconnect === false ? null : { initialDelay: 100, maxDelay: 10_000, factor: 2, ...(reconnect === true ? {} : reconnect) };
    if (this.#reconnect) {
      positive('reconnect.initialDelay', this.#reconnect.initialDelay, false);
      positive('reconnect.maxDelay', this.#reconnect.maxDelay, false);
      if (!(this.#reconnect.factor >= 1)) throw new TypeError(`reconnect.factor must be >= 1, got ${this.#reconnect.factor}`);
    }
    this.#codec = new FrameCodec(options.framing, this.#maxFrameBytes);
    const onError = options.onError ?? ((error: unknown) => process.emitWarning(`FusionTcpClient handler failed: ${String(error)}`));
    this.#tasks = new SerialTasks({ pause: () => this.#socket?.pause(), resume: () => this.#socket?.resume(), failed: onError });
  }

  /** True while a connection is open. */
  get connected(): boolean {
    return this.#open;
  }

  /** Connections made so far (1 after the first, 2 after one reconnection...). */
  get connections(): number {
    return this.#connections;
  }

  /** Frames waiting for the next connection. */
  get queuedFrames(): number {
    return this.#queue.length;
  }

  /** Adds a handler run on each connection, before queued frames are flushed. */
  onConnect(handler: TcpClientConnectHandler): this {
    this.#connectHandlers.push(handler);
    return this;
  }

  /** Adds a handler of received frames (handlers run in the order added). */
  onMessage(handler: TcpClientMessageHandler): this {
    this.#messageHandlers.push(handler);
    return this;
  }

  /** Adds a handler run when a connection ends, with the reason. */
  onDisconnect(handler: TcpClientDisconnectHandler): this {
    this.#disconnectHandlers.push(handler);
    return this;
  }

  /** Adds a transform of received frames; null refuses the frame. */
  afterReceive(hook: AfterReceiveHook<FusionTcpClient>): this {
    this.#afterReceive.push(hook);
    return this;
  }

  /** Adds a synchronous transform of outgoing frames; null refuses the frame. */
  beforeSend(hook: BeforeSendHook<FusionTcpClient>): this {
    this.#beforeSend.push(hook);
    return this;
  }

  /**
   * Starts connecting; resolves once connected (and retries meanwhile when reconnection is on).
   * Rejects when the client is closed first, or on the first failure without reconnection.
   */
  connect(): Promise<void> {
    if (this.#stopped) return Promise.reject(new FusionError('FUSION_ERR_TCP_CLOSED', 'the TCP client is closed'));
    if (this.#open) return Promise.resolve();
    const waiting = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    if (this.#socket === null && this.#timer === null) this.#dial();
    return waiting;
  }

  /**
   * Sends a frame: written now when connected, else queued for the next connection. False when a
   * before-send hook refused it. Throws FUSION_ERR_TCP_QUEUE_FULL when the queue is full,
   * FUSION_ERR_TCP_CLOSED after close(), FUSION_ERR_TCP_FRAMING when the framing cannot carry it.
   */
  send(frame: TcpFrame): boolean {
    if (this.#stopped) throw new FusionError('FUSION_ERR_TCP_CLOSED', 'the TCP client is closed');
    const out = runBeforeSend(this.#beforeSend, frame, this);
    if (out === null) return false;
    const bytes = this.#codec.encode(out);
    if (this.#open && this.#socket) {
      this.#socket.write(bytes);
      return true;
    }
    if (this.#queue.length >= this.#maxQueued) {
      throw new FusionError('FUSION_ERR_TCP_QUEUE_FULL', `send queue full (${this.#maxQueued} frames) while disconnected`);
    }
    this.#queue.push(bytes);
    return true;
  }

  /** Closes the connection for good (no reconnection); queued frames are dropped. */
  async close(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#queue.length = 0;
    this.#rejectWaiters(new FusionError('FUSION_ERR_TCP_CLOSED', 'the TCP client was closed before it connected'));
    const socket = this.#socket;
    if (socket && !socket.destroyed) {
      this.#closeReason = 'closed by client';
      const closed = new Promise((resolve) => socket.once('close', resolve));
      socket.end();
      setTimeout(() => socket.destroy(), 1000).unref();
      await closed;
    }
  }

  #dial(): void {
    const { host = '127.0.0.1', port, tls } = this.#options;
    const socket = tls ? tlsConnect({ host, port, ...(tls === true ? {} : tls) }) : netConnect({ host, port });
    this.#socket = socket;
    this.#codec = new FrameCodec(this.#options.framing, this.#maxFrameBytes);
    this.#closeReason = null;
    socket.setNoDelay(true);
    socket.setTimeout(this.#options.connectTimeout ?? 10_000, () => {
      if (!this.#open) socket.destroy(new Error('connect timeout'));
    });
    socket.once(tls ? 'secureConnect' : 'connect', () => this.#connected(socket));
    socket.on('data', (chunk: Buffer) => this.#onData(socket, chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      this.#closeReason ??= `socket error ${error.code ?? error.message}`;
    });
    socket.on('close', () => this.#onClose(socket));
  }

  #connected(socket: Socket): void {
    socket.setTimeout(0);
    this.#open = true;
    this.#attempt = 0;
    this.#connections++;
    const waiters = this.#waiters;
    this.#waiters = [];
    this.#tasks.push(() => runInOrder(this.#connectHandlers, (handler) => handler(this)));
    this.#tasks.push(() => {
      if (this.#socket !== socket || !this.#open) return;
      for (const bytes of this.#queue.splice(0)) socket.write(bytes);
      for (const waiter of waiters) waiter.resolve();
    });
  }

  #onData(socket: Socket, chunk: Buffer): void {
    if (this.#socket !== socket) return;
    let frames: TcpFrame[];
    try {
      frames = this.#codec.push(chunk);
    } catch (error) {
      this.#closeReason = (error as Error).message;
      socket.destroy();
      return;
    }
    for (const frame of frames) {
      this.#tasks.push(() => {
        const accepted = runAfterReceive(this.#afterReceive, frame, this);
        const deliver = (value: TcpFrame | null): unknown => (value === null ? undefined : runInOrder(this.#messageHandlers, (handler) => handler(value, this)));
        return isThenable(accepted) ? accepted.then(deliver) : deliver(accepted);
      });
    }
  }

  #onClose(socket: Socket): void {
    if (this.#socket !== socket) return;
    const wasOpen = this.#open;
    this.#open = false;
    this.#socket = null;
    const reason = this.#closeReason ?? 'closed by server';
    if (wasOpen) this.#tasks.push(() => runInOrder(this.#disconnectHandlers, (handler) => handler(this, reason)));
    if (this.#stopped) return;
    if (this.#reconnect === null) {
      this.#rejectWaiters(new FusionError('FUSION_ERR_CONNECTION', `cannot connect to ${this.#options.host ?? '127.0.0.1'}:${this.#options.port}: ${reason}`));
      return;
    }
    const { initialDelay, maxDelay, factor } = this.#reconnect;
    const delay = Math.min(maxDelay, initialDelay * factor ** this.#attempt++) * (0.5 + Math.random() / 2);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      if (!this.#stopped) this.#dial();
    }, delay);
  }

  #rejectWaiters(error: Error): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter.reject(error);
  }
}
