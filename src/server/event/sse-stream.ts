/**
 * One Server-Sent Events response. The body is a PassThrough fastify pipes to the socket
 * (so fastify's hooks and logging still apply). Writes go straight through while the socket
 * keeps up; otherwise they wait in a bounded queue, and a consumer more than
 * `maxBuffered` messages behind is cut off (it resumes with Last-Event-ID), so one slow
 * reader never holds memory or slows the others. Messages written in one tick (the rows of one
 * bus batch, a backlog page) go to the socket as one chunk at the end of that tick: one write
 * through the stream layers instead of one per message, which is what a busy fan-out spends
 * its CPU on. Once fastify has sent the headers and the body holds nothing, chunks skip the
 * PassThrough and go to the response directly (same order: the body is empty), unless an
 * onSend hook encodes the body (Content-Encoding set), which only the PassThrough goes through.
 */
import { PassThrough } from 'node:stream';
import type { Writable } from 'node:stream';
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
  /** Chunks waiting for the socket, and how many messages each holds. */
  readonly #queue: string[] = [];
  readonly #queueCounts: number[] = [];
  #queuedMessages = 0;
  /** Messages of the current tick, written as one chunk by #flushTick. */
  #tick = '';
  #tickCount = 0;
  readonly #flushTick = (): void => this.#writeTick();
  #closed = false;
  #started = false;
  /** True once chunks go to the response itself (see #target). */
  #direct = false;

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

  /** Messages waiting for the socket (those of the current tick included). */
  get queued(): number {
    return this.#queuedMessages + this.#tickCount;
  }

  /** Sends the headers and hands the body to fastify; `first` is written at once (it flushes the headers). */
  start(first: string): void {
    if (this.#started) return;
    this.#started = true;
    this.#reply.code(200).headers(SSE_HEADERS);
    this.#body.write(first);
    void this.#reply.send(this.#body);
  }

  /** Queues a message (sent with the others of this tick); false when the stream is over (or was cut for lagging). */
  write(message: string): boolean {
    if (this.closed) return false;
    if (this.#queuedMessages >= this.#maxBuffered) {
      this.#cut('overflow');
      return false;
    }
    if (this.#tickCount === 0) queueMicrotask(this.#flushTick);
    this.#tick += message;
    this.#tickCount++;
    return true;
  }

  /** Hands this tick's messages to the socket as one chunk, or queues it while the socket is behind. */
  #writeTick(): void {
    const chunk = this.#tick;
    const count = this.#tickCount;
    this.#tick = '';
    this.#tickCount = 0;
    if (count === 0 || this.closed) return;
    const target = this.#target();
    if (this.#queue.length === 0 && !target.writableNeedDrain) {
      target.write(chunk);
      return;
    }
    this.#queue.push(chunk);
    this.#queueCounts.push(count);
    this.#queuedMessages += count;
  }

  /** Resolves once nothing waits in the queue (or the stream is over). */
  async drained(): Promise<void> {
    this.#writeTick();
    while (!this.closed && (this.#queue.length > 0 || this.#target().writableNeedDrain)) {
      const target = this.#target();
      await new Promise<void>((resolve) => {
        const done = (): void => {
          target.off('drain', done);
          this.#reply.raw.off('close', done);
          resolve();
        };
        target.once('drain', done);
        this.#reply.raw.once('close', done);
      });
    }
  }

  /** Writes a keep-alive comment when nothing waits already. */
  ping(): void {
    if (this.closed || this.#queue.length > 0 || this.#tickCount > 0) return;
    const target = this.#target();
    if (!target.writableNeedDrain) target.write(formatSseComment('ping'));
  }

  /** Ends the stream after what is queued (server shutdown). */
  end(): void {
    if (this.closed) return;
    this.#writeTick();
    const target = this.#started ? this.#target() : this.#body;
    for (const chunk of this.#queue.splice(0)) target.write(chunk);
    this.#queueCounts.length = 0;
    this.#queuedMessages = 0;
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
    this.#queueCounts.length = 0;
    this.#queuedMessages = 0;
    this.#tick = '';
    this.#tickCount = 0;
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
    const target = this.#target();
    while (this.#queue.length > 0 && !target.writableNeedDrain && !this.closed) {
      target.write(this.#queue.shift()!);
      this.#queuedMessages -= this.#queueCounts.shift()!;
    }
  }

  /** The response once the body has handed everything to it (and no encoding is applied), else the body. */
  #target(): Writable {
    if (this.#direct) return this.#reply.raw;
    const raw = this.#reply.raw;
    if (!this.#started || !raw.headersSent || this.#body.readableLength > 0 || this.#body.writableLength > 0 || raw.getHeader('content-encoding') !== undefined) {
      return this.#body;
    }
    this.#direct = true;
    raw.on('drain', () => this.#flush());
    return raw;
  }

  #finish(reason: SseCloseReason): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#onClose(reason);
  }
}
