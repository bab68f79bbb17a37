/**
 * FusionTcpConnection: one accepted socket of the gateway. It frames what it reads, hands each
 * frame to the gateway in order (one at a time: an async handler pauses the socket, so a slow
 * handler slows the sender instead of growing memory), writes frames through the before-send
 * hooks, and closes with a reason for idle time, oversize frames and slow readers.
 */
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { runBeforeSend } from '../../helper/frame-hooks.js';
import type { BeforeSendHook } from '../../helper/frame-hooks.js';
import { FrameCodec } from '../../helper/framing.js';
import type { TcpFrame } from '../../helper/framing.js';
import type { FusionLogger } from '../../helper/logging.js';
import { SerialTasks } from '../../helper/serial-tasks.js';
import type { ResolvedTcpListenerOptions } from './listener-options.js';

/** What a connection needs from its gateway. */
export interface TcpConnectionOwner {
  readonly logger: FusionLogger;
  readonly beforeSend: readonly BeforeSendHook<FusionTcpConnection>[];
  /** Runs onConnect handlers. */
  connected(connection: FusionTcpConnection): unknown;
  /** Runs after-receive hooks, classification and the message handler of one frame. */
  received(connection: FusionTcpConnection, frame: TcpFrame): unknown;
  /** Runs onDisconnect handlers, after every frame received was handled. */
  disconnected(connection: FusionTcpConnection, reason: string): unknown;
  /** Records a new identity (in the connection registry). */
  identified(connection: FusionTcpConnection): unknown;
}

/** The TLS client certificate of a connection, when the listener asks for one. */
export interface TcpPeerCertificate {
  /** Subject common name. */
  readonly subject: string;
  /** SHA-256 fingerprint, `AB:CD:...`. */
  readonly fingerprint256: string;
  /** True when the certificate chains to the listener's `ca`. */
  readonly authorized: boolean;
}

/** One connection accepted by a FusionTcpGateway. */
export class FusionTcpConnection {
  /** Unique id of the connection. */
  readonly id: string = randomUUID();
  /** The listener that accepted it. */
  readonly listener: string;
  /** Peer address and port. */
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** When the connection was accepted. */
  readonly connectedAt = new Date();
  /** The client certificate, on a TLS listener with `requestCert`; else null. */
  readonly peerCertificate: TcpPeerCertificate | null;
  /** The client type `classify` gave the first message; null until then (or when no classifier is set). */
  clientType: string | null = null;
  #identity: string | null = null;
  /** True while the first frame (after after-receive hooks) is being classified and handled. */
  isFirstMessage = false;
  /** Frames that reached a handler so far. */
  messagesReceived = 0;

  readonly #socket: Socket;
  readonly #owner: TcpConnectionOwner;
  readonly #codec: FrameCodec;
  readonly #options: ResolvedTcpListenerOptions;
  readonly #tasks: SerialTasks;
  #closeReason: string | null = null;
  #closed = false;
  readonly #done: Promise<string>;
  #resolveDone!: (reason: string) => void;

  constructor(socket: Socket, options: ResolvedTcpListenerOptions, owner: TcpConnectionOwner) {
    this.#socket = socket;
    this.#owner = owner;
    this.#options = options;
    this.listener = options.name;
    this.remoteAddress = socket.remoteAddress ?? '';
    this.remotePort = socket.remotePort ?? 0;
    this.peerCertificate = peerCertificateOf(socket);
    this.#codec = new FrameCodec(options.framing, options.maxFrameBytes);
    this.#tasks = new SerialTasks({
      pause: () => socket.pause(),
      resume: () => {
        if (!this.#closed) socket.resume();
      },
      failed: (error) => this.#handlerFailed(error),
    });
    this.#done = new Promise((resolve) => {
      this.#resolveDone = resolve;
    });
    socket.setNoDelay(true);
    if (options.idleTimeout > 0) {
      socket.setTimeout(options.idleTimeout * 1000, () => this.close(`idle for ${options.idleTimeout} s`));
    }
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      this.#closeReason ??= `socket error ${error.code ?? error.message}`;
    });
    socket.on('close', () => this.#onClose());
    this.#tasks.push(() => owner.connected(this));
  }

  /** Who the peer is, when the handshake or its certificate authenticates it (set with `identify`); else null. */
  get identity(): string | null {
    return this.#identity;
  }

  /** True once the connection is closing or closed: `send` then returns false. */
  get closed(): boolean {
    return this.#closeReason !== null || this.#closed;
  }

  /** Resolves with the close reason once the socket is closed and onDisconnect handlers have run. */
  get done(): Promise<string> {
    return this.#done;
  }

  /** Bytes written and not yet taken by the peer. */
  get bufferedBytes(): number {
    return this.#socket.writableLength;
  }

  /** Records who the peer is (shown in logs, and in the connection registry where there is one). */
  identify(identity: string | null): void {
    this.#identity = identity;
    this.#owner.identified(this);
  }

  /**
   * Sends a frame through the before-send hooks. False when a hook refused it or the connection
   * is closed; a peer that lets more than `maxBufferedBytes` pile up is closed (slow reader).
   * Throws FramingError when the framing cannot carry the frame.
   */
  send(frame: TcpFrame): boolean {
    if (this.closed) return false;
    const out = runBeforeSend(this.#owner.beforeSend, frame, this);
    if (out === null) return false;
    const bytes = this.#codec.encode(out);
    if (this.#socket.writableLength + bytes.length > this.#options.maxBufferedBytes) {
      this.close(`slow reader: ${this.#socket.writableLength} bytes unsent, over max_buffered_bytes (${this.#options.maxBufferedBytes})`);
      return false;
    }
    this.#socket.write(bytes);
    return true;
  }

  /** Closes the connection (after what was written is flushed); `reason` goes to the log and onDisconnect. */
  close(reason = 'closed by server'): void {
    if (this.closed) return;
    this.#closeReason = reason;
    this.#socket.end();
    // a peer that never reads would keep a half-closed socket: give it a second to drain
    setTimeout(() => this.#socket.destroy(), 1000).unref();
  }

  /** Closes at once, dropping unsent bytes. */
  destroy(reason: string): void {
    this.#closeReason ??= reason;
    this.#socket.destroy();
  }

  #onData(chunk: Buffer): void {
    if (this.#closeReason !== null) return;
    let frames: TcpFrame[];
    try {
      frames = this.#codec.push(chunk);
    } catch (error) {
      this.#owner.logger.warn({ connection: this.id, listener: this.listener, remote: this.remoteAddress, reason: (error as Error).message }, 'tcp connection closed: bad framing');
      this.destroy((error as Error).message);
      return;
    }
    for (const frame of frames) this.#tasks.push(() => this.#owner.received(this, frame));
  }

  #onClose(): void {
    this.#closed = true;
    const reason = this.#closeReason ?? 'closed by peer';
    this.#closeReason = reason;
    this.#tasks.push(() => this.#owner.disconnected(this, reason));
    this.#tasks.push(() => this.#resolveDone(reason));
  }

  #handlerFailed(error: unknown): void {
    this.#owner.logger.error({ connection: this.id, listener: this.listener, err: error }, 'tcp handler failed');
  }
}

function peerCertificateOf(socket: Socket): TcpPeerCertificate | null {
  if (!(socket instanceof TLSSocket)) return null;
  const cert = socket.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) return null;
  const cn = cert.subject?.CN;
  return { subject: Array.isArray(cn) ? (cn[0] ?? '') : (cn ?? ''), fingerprint256: cert.fingerprint256, authorized: socket.authorized };
}
