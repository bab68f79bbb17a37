/**
 * Cross-instance mutual exclusion by string key.
 *
 * PostgreSQL: `pg_advisory_lock` on a connection of its own, opened for the call and closed
 * after it (never one of the knex pool's: a waiting lock must not starve the pool the
 * locked function itself queries through). Same-process callers of one key queue on an
 * in-process mutex first, so N local waiters hold one connection, not N.
 *
 * PGlite: an in-process mutex only. PGlite has exactly one session, which knex's pool (size 1)
 * hands out query by query. Holding that connection for the locked function would deadlock
 * as soon as the function queries through knex; issuing `pg_advisory_lock` through the pool
 * would not exclude anything, since session-level advisory locks are re-entrant within the
 * one session. A PGlite database is only ever open in one process (openStorage locks the
 * directory), so the in-process mutex is complete exclusion.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { FusionError } from '../../helper/errors.js';
import { KeyedMutex } from './keyed-mutex.js';
import type { LockAttempt } from './keyed-mutex.js';

/**
 * A function run under a lock. `signal` aborts (reason: a FusionError FUSION_ERR_STORAGE) if
 * the lock is lost while it runs: the PostgreSQL connection holding it broke.
 */
export type LockedFunction<T> = (signal: AbortSignal) => Promise<T>;

/** Takes and releases named locks shared by every storage on the same database (and schema). */
export interface AdvisoryLocker {
  /** Waits for `key`, runs `fn`, always releases. */
  withLock<T>(key: string, fn: LockedFunction<T>): Promise<T>;
  /** Runs `fn` under `key` only if it is free right now. */
  tryWithLock<T>(key: string, fn: LockedFunction<T>): Promise<LockAttempt<T>>;
}

/** The signal of an in-process lock: it can never be lost. */
const NEVER_ABORTED = new AbortController().signal;

/**
 * The int64 advisory-lock id of `key` within `namespace` (the schema name, so deployments
 * sharing one database in separate schemas do not exclude each other): the first 8 bytes
 * of sha256(`${namespace.length}:${namespace}:${key}`) as a signed integer, in decimal.
 */
export function advisoryLockId(namespace: string, key: string): string {
  const digest = createHash('sha256').update(`${namespace.length}:${namespace}:${key}`).digest();
  return digest.readBigInt64BE(0).toString();
}

/** In-process only: for PGlite (see the file comment). */
export class LocalLocker implements AdvisoryLocker {
  readonly #mutex = new KeyedMutex();

  /** Waits for `key` in this process, runs `fn`, releases. */
  withLock<T>(key: string, fn: LockedFunction<T>): Promise<T> {
    return this.#mutex.run(key, () => fn(NEVER_ABORTED));
  }

  /** Runs `fn` if no caller in this process holds or waits for `key`. */
  tryWithLock<T>(key: string, fn: LockedFunction<T>): Promise<LockAttempt<T>> {
    return this.#mutex.tryRun(key, () => fn(NEVER_ABORTED));
  }
}

let pgModule: Promise<typeof pg> | undefined;

/** The pg driver, imported on the first lock: an embedded storage (LocalLocker) never loads it (~65 ms of CPU at start). */
function loadPg(): Promise<typeof pg> {
  pgModule ??= import('pg').then((module) => module.default);
  return pgModule;
}

/** PostgreSQL advisory locks on dedicated connections (see the file comment). */
export class PgAdvisoryLocker implements AdvisoryLocker {
  readonly #connectionString: string;
  readonly #namespace: string;
  readonly #mutex = new KeyedMutex();
  readonly #onError: (error: Error) => void;

  constructor(options: { connectionString: string; namespace: string; onError?: (error: Error) => void }) {
    this.#connectionString = options.connectionString;
    this.#namespace = options.namespace;
    this.#onError = options.onError ?? (() => undefined);
  }

  /** Waits for `key` (here, then in PostgreSQL), runs `fn`, always unlocks. */
  withLock<T>(key: string, fn: LockedFunction<T>): Promise<T> {
    return this.#mutex.run(key, () => this.#locked(key, true, fn).then((attempt) => (attempt as { value: T }).value));
  }

  /** Runs `fn` only if neither this process nor another instance holds `key`. */
  async tryWithLock<T>(key: string, fn: LockedFunction<T>): Promise<LockAttempt<T>> {
    const local = await this.#mutex.tryRun(key, () => this.#locked(key, false, fn));
    return local.acquired ? local.value : { acquired: false };
  }

  async #locked<T>(key: string, wait: boolean, fn: LockedFunction<T>): Promise<LockAttempt<T>> {
    const id = advisoryLockId(this.#namespace, key);
    const client = new (await loadPg()).Client({ connectionString: this.#connectionString });
    const lost = new AbortController();
    let ending = false;
    const onLost = (error?: Error): void => {
      if (ending || lost.signal.aborted) return;
      const why = error?.message ?? 'connection closed';
      lost.abort(new FusionError('FUSION_ERR_STORAGE', `advisory lock "${key}" lost (${why}): its PostgreSQL connection broke`));
    };
    // A client whose server goes away emits 'error': report it instead of crashing.
    client.on('error', (error: Error) => {
      this.#onError(error);
      onLost(error);
    });
    client.on('end', () => onLost());
    try {
      await client.connect();
      if (wait) {
        await client.query('SELECT pg_advisory_lock($1::bigint)', [id]);
      } else {
        const result = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS locked', [id]);
        if (!result.rows[0]?.locked) return { acquired: false };
      }
      try {
        return { acquired: true, value: await fn(lost.signal) };
      } finally {
        // Closing the session releases the lock too; unlocking first makes it immediate.
        if (!lost.signal.aborted) await client.query('SELECT pg_advisory_unlock($1::bigint)', [id]).catch(this.#onError);
      }
    } finally {
      ending = true;
      await client.end().catch(this.#onError);
    }
  }
}
