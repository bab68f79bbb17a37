/** The reverse requests one connection sent its client and waits on (frame ids `r1`, `r2`...), and the answers it routes back. */
import type { RpcErrorObject, RpcResponseFrame } from './protocol.js';

/** Who asked: the request id on the asking instance, and that instance. */
export interface PendingReverse {
  rid: string;
  from: string;
}

/** The reverse requests in flight on one connection. */
export class PendingReverseRequests {
  readonly #pending = new Map<string, PendingReverse>();
  #seq = 0;

  /** Records a reverse request; returns the frame id to send it with. */
  open(rid: string, from: string): string {
    const id = `r${++this.#seq}`;
    this.#pending.set(id, { rid, from });
    return id;
  }

  /** Forgets the request sent as `id` (it could not be sent). */
  cancel(id: string): void {
    this.#pending.delete(id);
  }

  /** The request a response frame answers (forgotten now), or undefined when no request has its id. */
  take(frame: RpcResponseFrame): PendingReverse | undefined {
    const pending = typeof frame.id === 'string' ? this.#pending.get(frame.id) : undefined;
    if (pending !== undefined) this.#pending.delete(frame.id as string);
    return pending;
  }

  /** Every request still waiting (all forgotten now): the connection closed. */
  drain(): PendingReverse[] {
    const all = [...this.#pending.values()];
    this.#pending.clear();
    return all;
  }
}

/** The answer to route back for a client's response frame (a malformed error gets -32603 / `error`). */
export function reverseAnswerOf(frame: RpcResponseFrame, decode: (value: unknown) => unknown): { result?: unknown; error?: RpcErrorObject } {
  if (frame.error !== undefined) {
    const error = frame.error as Partial<RpcErrorObject>;
    return {
      error: { code: typeof error.code === 'number' ? error.code : -32603, message: typeof error.message === 'string' ? error.message : 'error', ...(error.data ? { data: error.data } : {}) },
    };
  }
  return { result: decode(frame.result) };
}
