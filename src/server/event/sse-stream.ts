/**
 * One Server-Sent Events response. The body is a PassThrough fastify pipes to the socket
 * (so fastify's hooks and logging still apply). Writes go straight through while the socket
 * keeps up; otherwise they wait in a bounded queue, and a consumer more than
 * `maxBuffered` messages behind is cut off (it resumes with Last-Event-ID), so one slow
 * reader never holds memory or slows the others.
 */
import { PassThrough } from 'node:stream';
import type { FastifyReply } from 'fastify';
import { formatSseComment } from '../../helper/sse.js';

/** Why a stream ended. */
export type SseCloseReason = 'client' | 'overflow' | 'server' | 'error';

/** Options of SseStream. */
export interface SseStreamOptions {
  /** Messages that may wait for a slow socket before the stream is cut. */
  maxBuffered: number;
  /** Called once when the stream is over, whatever the reason. */
  onClose(reason: SseCloseReason): void;
}

/** Response headers of an event stream (X-Accel-Buffering: no keeps nginx from buffering it). */
export const SSE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
});

/** An open event stream on one response. */
export class SseStream {
  readonly #reply: FastifyReply;
  readonly #body = new PassThrough();
  readonly #maxBuffered: number;
  readonly #onClose: (reason: SseCloseReason) => void;
  readonly #queue: string[] = [];
  #closed = false;
  #started = false;

  constructor(reply: FastifyReply, options: SseStreamOptions) {
    this.#reply = reply;
    this.#maxBuffered = options.maxBuffered;
    this.#onClose = options.onClose;
    this.#body.on('drain', () => this.#flush());
    this.#body.on('error', () => this.#finish('error'));
    reply.raw.on('close', () => {
      this.#release();
      this.#finish('client');
    });
  }

  /** True once the stream has ended (or was cut). */
  get closed(): boolean {
    return this.#closed || this.#reply.raw.destroyed;
  }

  /** Messages waiting for the socket. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Sends the headers and hands the body to fastify; `first` is written at once (it flushes the headers). */
  start(first: string): void {
    if (this.#started) return;
    this.#started = true;
    this.#reply.code(200).headers(SSE_HEADERS);
    this.#body.write(first);
    void this.#reply.send(this.#body);
  }

  /** Queues a message; false when the stream is over (or was just cut for lagging). */
  write(message: string): boolean {
    if (this.closed) return false;
    if (this.#queue.length === 0 && !this.#body.writableNeedDrain) {
      this.#body.write(message);
      return true;
    }
    if (this.#queue.length >= this.#maxBuffered) {
      this.#cut('overflow');
      return false;
    }
    this.#queue.push(message);
    return true;
  }

  /** Resolves once nothing waits in the queue (or the stream is over). */
  async drained(): Promise<void> {
    while (!this.closed && (this.#queue.length > 0 || this.#body.writableNeedDrain)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.#body.off('drain', done);
          this.#reply.raw.off('close', done);
          resolve();
        };
        this.#body.once('drain', done);
        this.#reply.raw.once('close', done);
      });
    }
  }

  /** Writes a keep-alive comment when nothing waits already. */
  ping(): void {
    if (!this.closed && this.#queue.length === 0 && !this.#body.writableNeedDrain) this.#body.write(formatSseComment('ping'));
  }

  /** Ends the stream after what is queued (server shutdown). */
  end(): void {
    if (this.closed) return;
    for (const message of this.#queue.splice(0)) this.#body.write(message);
    if (this.#started) {
      this.#body.end();
    } else {
      this.#release();
      this.#reply.raw.destroy();
    }
    this.#finish('server');
  }

  /** Cuts the connection now (lagging consumer, failure). */
  #cut(reason: SseCloseReason): void {
    this.#queue.length = 0;
    this.#release();
    this.#finish(reason);
    this.#body.destroy();
    this.#reply.raw.destroy();
  }

  /**
   * A response that will never end normally is taken off fastify's hands: the route handler
   * awaits the reply (a thenable) and would otherwise try to answer on a dead connection.
   */
  #release(): void {
    if (!this.#reply.raw.writableEnded && !this.#reply.sent) this.#reply.hijack();
  }

  /** Cuts the connection because the stream could not go on. */
  fail(): void {
    this.#cut('error');
  }

  #flush(): void {
    while (this.#queue.length > 0 && !this.#body.writableNeedDrain && !this.closed) this.#body.write(this.#queue.shift()!);
  }

  #finish(reason: SseCloseReason): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#onClose(reason);
  }
}
