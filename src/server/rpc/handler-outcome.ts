/** What a method handler returned: a value, a promise, or an async iterable streamed item by item. */
import type { CallState } from './call-state.js';
import { protocolError } from './protocol.js';

/** True for a promise (or any thenable). */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
}

/** True for an async generator (or any async iterator that is iterable). */
export function isAsyncIterable(value: unknown): value is AsyncGenerator<unknown, unknown, unknown> {
  return typeof value === 'object' && value !== null && typeof (value as AsyncIterator<unknown>).next === 'function' && Symbol.asyncIterator in value;
}

/**
 * Awaits a handler's outcome within `call` (its timeout and cancel); an async iterable hands
 * each item to `onItem` while `isOpen()`, and its return value is the result.
 */
export async function settleOutcome(outcome: unknown, call: CallState, isOpen: () => boolean, onItem: (value: unknown) => void): Promise<unknown> {
  // A synchronous handler's value needs no race (nor a promise).
  const value = isThenable(outcome) ? await call.race(outcome) : outcome;
  if (!isAsyncIterable(value)) return value;
  const iterator = value as AsyncGenerator<unknown, unknown, unknown>;
  let items = 0;
  try {
    for (;;) {
      const step = await call.race(iterator.next());
      if (step.done) return step.value;
      if (!isOpen()) throw protocolError.cancelled('the connection closed');
      onItem(step.value);
      // A generator that never awaits would hold the event loop: let I/O (and the peer's frames) in.
      if (++items % 64 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
  } finally {
    if (call.aborted) void iterator.return?.(undefined)?.catch(() => undefined);
  }
}
