/**
 * The clock the task runner schedules with: the system clock in production, a ManualClock in
 * tests (time moves only when the test says so, so "runs when due" is checked without sleeping).
 */

/** Wall-clock time and abortable waits. */
export interface TaskClock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms` milliseconds of this clock's time; rejects with the signal's reason when it aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The real clock (Date.now, setTimeout). */
export const systemClock: TaskClock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, Math.max(0, ms));
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

interface Sleeper {
  readonly deadline: number;
  readonly resolve: () => void;
}

/** A clock for tests: `advance(ms)` moves time and wakes the sleepers that became due. */
export class ManualClock implements TaskClock {
  #now: number;
  readonly #sleepers = new Set<Sleeper>();
  readonly #waiters = new Set<() => void>();

  constructor(start: number | Date = Date.UTC(2026, 0, 1)) {
    this.#now = typeof start === 'number' ? start : start.getTime();
  }

  /** The current manual time. */
  now(): number {
    return this.#now;
  }

  /** How many waits are pending. */
  get sleeping(): number {
    return this.#sleepers.size;
  }

  /** Waits until `ms` of manual time have passed (advance() moves it). */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const sleeper: Sleeper = {
        deadline: this.#now + Math.max(0, ms),
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        this.#sleepers.delete(sleeper);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#sleepers.add(sleeper);
      for (const wake of this.#waiters) wake();
      if (ms <= 0) this.#wake();
    });
  }

  /** Moves time forward by `ms` and wakes every sleeper now due. */
  advance(ms: number): void {
    this.#now += ms;
    this.#wake();
  }

  /** Resolves once at least `count` sleeps are pending (the code under test is waiting). */
  async waitForSleepers(count = 1, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.#sleepers.size < count) {
      if (Date.now() > deadline) throw new Error(`ManualClock: fewer than ${count} sleepers after ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, 50);
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        this.#waiters.add(done);
      });
      this.#waiters.clear();
    }
  }

  #wake(): void {
    for (const sleeper of [...this.#sleepers].sort((a, b) => a.deadline - b.deadline)) {
      if (sleeper.deadline > this.#now) break;
      this.#sleepers.delete(sleeper);
      sleeper.resolve();
    }
  }
}
