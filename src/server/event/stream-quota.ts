/**
 * How many event streams each identity holds open on this instance, capped by
 * `event.max_streams_per_identity`. Counted in memory, per instance: behind a load balancer an
 * identity may hold up to the cap on each instance.
 */
import { FusionError } from '../../helper/errors.js';

/** Counts open streams per username and refuses those past the cap. */
export class StreamQuota {
  readonly #max: number;
  readonly #open = new Map<string, number>();

  /** `max`: streams one identity may hold at once (0: no cap). */
  constructor(max: number) {
    if (!Number.isInteger(max) || max < 0) throw new RangeError('StreamQuota: max must be an integer >= 0');
    this.#max = max;
  }

  /** Streams `username` holds now. */
  count(username: string): number {
    return this.#open.get(username) ?? 0;
  }

  /** Counts a new stream of `username`; returns its release (idempotent); throws 429 FUSION_ERR_RATE_LIMITED past the cap. */
  acquire(username: string): () => void {
    const count = this.count(username);
    if (this.#max > 0 && count >= this.#max) {
      throw new FusionError(
        'FUSION_ERR_RATE_LIMITED',
        `too many event streams: ${JSON.stringify(username)} holds ${count} open on this instance (event.max_streams_per_identity: ${this.#max}); close one and retry`,
      );
    }
    this.#open.set(username, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = this.count(username) - 1;
      if (left > 0) this.#open.set(username, left);
      else this.#open.delete(username);
    };
  }
}
