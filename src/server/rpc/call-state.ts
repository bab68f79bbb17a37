/**
 * One running call's cancellation: its AbortSignal is made only when the handler reads it
 * (most never do), and awaiting the handler races its abort without a listener per call.
 */
import type { Expiring } from '../../helper/deadline-sweep.js';
import { protocolError } from './protocol.js';

/** A call in flight (see the file comment); expires after `seconds` with -32008. */
export class CallState implements Expiring {
  readonly deadline: number;
  readonly #seconds: number;
  #controller: AbortController | null = null;
  #aborted = false;
  #reason: unknown = undefined;
  #reject: ((reason: unknown) => void) | null = null;

  constructor(seconds: number) {
    this.#seconds = seconds;
    this.deadline = Date.now() + seconds * 1000;
  }

  /** True once aborted (timeout, rpc.cancel, close, shutdown). */
  get aborted(): boolean {
    return this.#aborted;
  }

  /** Why it was aborted. */
  get reason(): unknown {
    return this.#reason;
  }

  /** The handler's signal (created on first use, aborted already if the call is). */
  get signal(): AbortSignal {
    if (this.#controller === null) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /** Aborts the call with `reason` (once): the signal fires, a pending `race` rejects. */
  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
    const reject = this.#reject;
    this.#reject = null;
    reject?.(reason);
  }

  /** The deadline passed. */
  expire(): void {
    this.abort(protocolError.timeout(this.#seconds));
  }

  /** `work`'s outcome, or a rejection with the abort reason if the call is aborted first. */
  race<T>(work: PromiseLike<T>): Promise<T> {
    if (this.#aborted) return Promise.reject(this.#reason);
    return new Promise<T>((resolve, reject) => {
      this.#reject = reject;
      work.then(resolve, reject);
    });
  }
}
