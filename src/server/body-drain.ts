/**
 * Draining a refused request body. A client that sends a whole too-large body without
 * `Expect: 100-continue` reads the 413 only when the server read the body first (closing
 * while it still writes resets the connection and loses the answer), so the rest of the body
 * is read and thrown away, up to a bound, before the answer is sent and the connection closed.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

/** Bytes of a refused body read and thrown away, at most, so that its sender can read the 413. */
export const MAX_DRAINED_BYTES = 64 * 1024 * 1024;

/** Milliseconds a refused body may take to arrive before the connection is closed without waiting more. */
const DRAIN_TIMEOUT_MS = 10_000;

/**
 * Reads and throws away what is left of `request`'s body, up to MAX_DRAINED_BYTES or
 * DRAIN_TIMEOUT_MS, so that a client still sending it can then read the answer. Resolves true
 * when the body ended (the connection may still be closed by the answer), false when cut short.
 */
export function drainBody(request: FastifyRequest): Promise<boolean> {
  const raw = request.raw;
  if (raw.complete || raw.readableEnded || raw.destroyed) return Promise.resolve(true);
  return new Promise((resolve) => {
    let received = 0;
    const finish = (ended: boolean): void => {
      clearTimeout(timer);
      raw.off('data', onData);
      raw.off('end', onEnd);
      raw.off('error', onError);
      raw.off('close', onError);
      resolve(ended);
    };
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > MAX_DRAINED_BYTES) finish(false);
    };
    const onEnd = (): void => finish(true);
    const onError = (): void => finish(raw.complete);
    const timer = setTimeout(() => finish(false), DRAIN_TIMEOUT_MS);
    timer.unref();
    raw.on('data', onData);
    raw.once('end', onEnd);
    raw.once('error', onError);
    raw.once('close', onError);
    raw.resume();
  });
}

/** Sends `body` with `status` once the refused request body is drained, closing the connection after it. */
export async function sendAfterDrain(request: FastifyRequest, reply: FastifyReply, status: number, body: unknown): Promise<FastifyReply> {
  await drainBody(request);
  if (reply.sent || reply.raw.destroyed) return reply;
  return reply.code(status).header('connection', 'close').send(body);
}
