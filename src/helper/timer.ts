/** Monotonic timing, abortable sleep, and a non-overlapping interval runner. */
import { setTimeout as delay } from 'node:timers/promises';
import { getLogger } from './logging.js';

const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/** Measures elapsed time on the monotonic clock (immune to wall-clock changes). */
export class Timer {
  #start = process.hrtime.bigint();

  /** Milliseconds since the timer started or was last reset (fractional). */
  get elapsedMs(): number {
    return Number(process.hrtime.bigint() - this.#start) / 1e6;
  }

  /** Restarts the timer; returns the milliseconds elapsed before the reset. */
  reset(): number {
    const now = process.hrtime.bigint();
    const elapsed = Number(now - this.#start) / 1e6;
    this.#start = now;
    return elapsed;
  }
}

/** Starts and returns a Timer. */
export function startTimer(): Timer {
  return new Timer();
}

/** Runs `fn` and returns its result with the milliseconds it took; errors propagate. */
export async function measure<T>(fn: () => T | Promise<T>): Promise<{ result: T; ms: number }> {
  const timer = new Timer();
  const result = await fn();
  return { result, ms: timer.elapsedMs };
}

/** Resolves after `ms` milliseconds; rejects with an AbortError when `signal` aborts first. */
export async function sleep(ms: number, options: { signal?: AbortSignal } = {}): Promise<void> {
  await delay(ms, undefined, { signal: options.signal });
}

/** Options of `every`. */
export interface EveryOptions {
  /** Stops the runner; a run in progress finishes (it receives the signal too). */
  signal?: AbortSignal;
  /** Run once right away instead of after the first interval. */
  immediate?: boolean;
  /** Called with what a run threw (not AbortErrors after the stop); default: logged by `helper.timer`. */
  onError?: (error: unknown) => void;
}

/**
 * Runs `fn` every `ms` milliseconds until `options.signal` aborts. Runs never overlap: when a
 * run lasts longer than `ms`, the next one starts as soon as it ends (no burst to catch up).
 * Resolves once stopped and the last run has finished.
 */
export async function every(
  ms: number,
  fn: (signal: AbortSignal) => unknown,
  options: EveryOptions = {},
): Promise<void> {
  if (!(ms > 0) || !Number.isFinite(ms)) {
    throw new RangeError(`every: interval must be a positive number of milliseconds, got ${ms}`);
  }
  const signal = options.signal ?? new AbortController().signal;
  const onError =
    options.onError ?? ((error: unknown) => getLogger('helper.timer').error({ err: error }, 'interval run failed'));
  let next = nowMs() + (options.immediate ? 0 : ms);
  while (!signal.aborted) {
    const wait = next - nowMs();
    if (wait > 0) {
      try {
        await sleep(wait, { signal });
      } catch (error) {
        if (signal.aborted) break;
        throw error;
      }
    }
    const started = nowMs();
    try {
      await fn(signal);
    } catch (error) {
      // A run cut short by the stop itself is not a failure.
      const aborted = signal.aborted && (error === signal.reason || (error as { name?: unknown } | null)?.name === 'AbortError');
      if (!aborted) onError(error);
    }
    next = Math.max(started + ms, nowMs());
  }
}
