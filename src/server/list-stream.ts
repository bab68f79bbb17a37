/**
 * Sends a whole list in the success envelope, `{"status":200,"data":[...],"count":N}`, as a
 * chunked body built a slice at a time: each slice is serialized, written, and the event loop
 * is let go (setImmediate) before the next, so a list of any length never holds the loop for
 * long. The bytes are those JSON.stringify gives for the whole envelope. Batches are read
 * lazily after the first; should one fail once the body has started, the connection is cut
 * (the status line is gone) and the error logged.
 */
import { Readable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { FastifyReply } from 'fastify';

/** Items serialized between two yields of the event loop. */
export const LIST_SLICE = 100;

/** Streams `first`, then every batch of `rest`, as one success envelope on `reply`; returns the reply. */
export function sendListStream(reply: FastifyReply, first: readonly unknown[], rest: AsyncIterable<readonly unknown[]> | null = null): FastifyReply {
  async function* chunks(): AsyncGenerator<string, void, undefined> {
    yield '{"status":200,"data":[';
    let count = 0;
    const slices = async function* (batch: readonly unknown[]): AsyncGenerator<string, void, undefined> {
      for (let i = 0; i < batch.length; i += LIST_SLICE) {
        let text = '';
        const end = Math.min(batch.length, i + LIST_SLICE);
        for (let j = i; j < end; j++) text += (count++ === 0 ? '' : ',') + JSON.stringify(batch[j]);
        yield text;
        await nextTurn();
      }
    };
    yield* slices(first);
    if (rest !== null) for await (const batch of rest) yield* slices(batch);
    yield `],"count":${count}}`;
  }
  return reply.type('application/json; charset=utf-8').send(Readable.from(chunks(), { objectMode: false }));
}
