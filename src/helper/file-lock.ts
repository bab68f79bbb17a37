/** A lock on a file path shared by every process on the machine (proper-lockfile, `<path>.lock`). */
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import lockfile from 'proper-lockfile';
import { FusionError } from './errors.js';

/** Options of withFileLock. */
export interface FileLockOptions {
  /**
   * Milliseconds after which a lock that its holder stopped refreshing (the holder died) is
   * taken over (default 10000, at least 2000). A live holder refreshes it every stale/2 ms.
   */
  stale?: number;
  /** Most attempts after the first (default: unlimited, bounded by `timeout`). */
  retries?: number;
  /** Milliseconds to wait for the lock before FUSION_ERR_LOCK_TIMEOUT (default 10000). */
  timeout?: number;
  /** Aborting it stops waiting for the lock; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

const DEFAULT_STALE = 10_000;
const DEFAULT_TIMEOUT = 10_000;
const FIRST_DELAY = 20;
const MAX_DELAY = 1000;

function checkOptions(options: FileLockOptions): void {
  for (const key of ['stale', 'timeout'] as const) {
    const value = options[key];
    if (value !== undefined && (typeof value !== 'number' || !(value > 0))) {
      throw new RangeError(`${key} must be a number > 0, got ${String(value)}`);
    }
  }
  const { retries } = options;
  if (retries !== undefined && (typeof retries !== 'number' || !(retries >= 0))) {
    throw new RangeError(`retries must be a number >= 0, got ${String(retries)}`);
  }
}

/** The `code` of a system error (not with instanceof: errors may come from another realm). */
function errorCode(error: unknown): unknown {
  return typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
}

/** Takes the lock, retrying with jittered exponential backoff until `timeout` or `retries` run out. */
async function acquire(
  target: string,
  options: FileLockOptions,
  onCompromised: (error: Error) => void,
): Promise<() => Promise<void>> {
  const stale = Math.max(options.stale ?? DEFAULT_STALE, 2000);
  const timeout = options.timeout ?? DEFAULT_TIMEOUT;
  const retries = options.retries ?? Number.POSITIVE_INFINITY;
  const started = Date.now();
  let delay = FIRST_DELAY;
  for (let attempt = 0; ; attempt += 1) {
    options.signal?.throwIfAborted();
    try {
      return await lockfile.lock(target, { stale, realpath: false, retries: 0, onCompromised });
    } catch (error) {
      if (errorCode(error) === 'ENOENT') {
        throw new FusionError('FUSION_ERR_FILE_IO', `cannot lock '${target}': its directory does not exist; create it first`, {
          cause: error,
        });
      }
      if (errorCode(error) !== 'ELOCKED') throw error;
    }
    const waited = Date.now() - started;
    if (waited >= timeout || attempt >= retries) {
      throw new FusionError(
        'FUSION_ERR_LOCK_TIMEOUT',
        `could not lock '${target}' within ${waited} ms (${attempt + 1} attempts): another process holds '${target}.lock'. ` +
          `Retry later or raise the timeout; a lock left by a dead process expires after ${stale} ms, ` +
          `or remove '${target}.lock' by hand if you are sure no process uses it.`,
      );
    }
    const pause = Math.min(delay * (0.5 + Math.random()), timeout - waited);
    await sleep(pause, undefined, options.signal === undefined ? {} : { signal: options.signal });
    delay = Math.min(delay * 2, MAX_DELAY);
  }
}

/**
 * Runs `fn` while holding an exclusive lock on `path` (the file itself need not exist; the lock
 * is the directory `<path>.lock`), then releases the lock, even when `fn` throws. Waits for a
 * lock held elsewhere with backoff; takes over a lock whose holder died once it is `stale`;
 * rejects with FUSION_ERR_LOCK_TIMEOUT after `timeout`. If the lock is lost while `fn` runs, the
 * signal passed to `fn` is aborted and the call rejects with FUSION_ERR_LOCK_COMPROMISED.
 */
export async function withFileLock<T>(
  path: string,
  fn: (signal: AbortSignal) => Promise<T> | T,
  options: FileLockOptions = {},
): Promise<T> {
  checkOptions(options);
  const target = resolve(path);
  const controller = new AbortController();
  const onCompromised = (cause: Error): void => {
    controller.abort(
      new FusionError('FUSION_ERR_LOCK_COMPROMISED', `lost the lock on '${target}' while holding it: ${cause.message}`, {
        cause,
      }),
    );
  };
  const release = await acquire(target, options, onCompromised);
  let result: T;
  try {
    result = await fn(controller.signal);
  } finally {
    // A compromised lock is no longer ours: releasing it would fail (ERELEASED) or free another's.
    if (!controller.signal.aborted) await release();
  }
  if (controller.signal.aborted) throw controller.signal.reason;
  return result;
}
