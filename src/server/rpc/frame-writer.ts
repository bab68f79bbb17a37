/**
 * Writing a connection's frames: through the `beforeSend` hook, JSON-encoded (an answer that
 * cannot be is answered with an error), bounded by what the peer has not read (1013 past it),
 * and corked so that the frames of one tick leave in one write.
 */
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { FusionLogger } from '../../helper/logging.js';
import type { RpcConnectionInfo } from './define.js';
import type { RpcFrame, RpcHooks } from './hooks.js';
import { CLOSE_CODES, toRpcError } from './protocol.js';

/** What a FrameWriter reads of its connection's API (the config in force, hooks, logger). */
export interface FrameWriterHost {
  readonly config: { readonly maxBufferedBytes: number };
  readonly logger: FusionLogger;
  readonly hooks: RpcHooks;
}

/** The frame writer of one connection. */
export class FrameWriter {
  readonly #socket: WebSocket;
  readonly #host: FrameWriterHost;
  readonly #connection: RpcConnectionInfo;
  readonly #close: (code: number, reason: string) => void;
  /** The TCP socket under the WebSocket (ws keeps it in `_socket`): corked while a tick's frames are written. */
  readonly #raw: Duplex | undefined;
  #corked = false;
  readonly #uncork = (): void => {
    this.#corked = false;
    this.#raw?.uncork();
  };

  /** `close` closes the connection (the writer calls it when the peer does not read). */
  constructor(socket: WebSocket, host: FrameWriterHost, connection: RpcConnectionInfo, close: (code: number, reason: string) => void) {
    this.#socket = socket;
    this.#host = host;
    this.#connection = connection;
    this.#close = close;
    this.#raw = (socket as unknown as { _socket?: Duplex })._socket;
  }

  /** Writes a frame; false when refused or when the socket is gone. Closes with 1013 when the peer does not read. */
  send(frame: RpcFrame): boolean {
    const socket = this.#socket;
    if (socket.readyState !== socket.OPEN) return false;
    let out: RpcFrame | null = frame;
    const hook = this.#host.hooks.beforeSend;
    if (hook !== undefined) {
      try {
        out = hook(this.#connection, frame);
      } catch (error) {
        this.#host.logger.error({ err: error, connection: this.#connection.id }, 'rpc: beforeSend threw; frame dropped');
        out = null;
      }
    }
    if (out === null) return false;
    let text: string;
    try {
      text = JSON.stringify(out);
    } catch (error) {
      this.#host.logger.error({ err: error, connection: this.#connection.id }, 'rpc: a frame is not serializable');
      if ('id' in frame && ('result' in frame || 'error' in frame)) text = JSON.stringify({ jsonrpc: '2.0', id: frame.id, error: toRpcError(error) });
      else return false;
    }
    if (socket.bufferedAmount + text.length > this.#host.config.maxBufferedBytes) {
      this.#host.logger.warn({ connection: this.#connection.id, buffered: socket.bufferedAmount }, 'rpc: the peer does not read; closing with 1013');
      this.#close(CLOSE_CODES.tryAgainLater, 'too slow: the client does not read its frames');
      socket.terminate();
      return false;
    }
    // Frames written in one tick (answers to a batch of calls) leave in one write.
    if (!this.#corked && this.#raw !== undefined) {
      this.#corked = true;
      this.#raw.cork();
      setImmediate(this.#uncork);
    }
    socket.send(text);
    return true;
  }
}
