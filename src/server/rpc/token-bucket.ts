/** The per-connection call rate limit: a token bucket refilled at `rate` tokens per second, `rate` at most. */

/** A token bucket that starts full. */
export class TokenBucket {
  readonly #rate: () => number;
  #tokens: number;
  #refilled = Date.now();

  /** `rate` is read at each take (the config in force). */
  constructor(rate: () => number) {
    this.#rate = rate;
    this.#tokens = rate();
  }

  /** Takes one token; false when none is left. */
  take(): boolean {
    const now = Date.now();
    const rate = this.#rate();
    this.#tokens = Math.min(rate, this.#tokens + ((now - this.#refilled) / 1000) * rate);
    this.#refilled = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
