/**
 * Exponential backoff of failed logins per (username, client address), kept in the
 * `fusion_auth_backoff` table so every instance on one storage sees it. The first `free`
 * failures cost nothing; each further one blocks the pair for `base * 2^(n - 1)` seconds
 * (n counting failures past the free ones), up to `max`. A success clears the pair; failures
 * older than `forget` seconds no longer count.
 */
import type { Knex } from 'knex';
import { affectedRows } from '../storage/affected-rows.js';

/** Table holding one row per throttled (username, address) pair. */
export const BACKOFF_TABLE = 'fusion_auth_backoff';

/** How the backoff grows. */
export interface LoginBackoffPolicy {
  /** Failures allowed before the first wait (0: every failure waits). */
  free: number;
  /** First wait, in seconds; 0 disables the backoff. */
  base: number;
  /** Longest wait, in seconds. */
  max: number;
  /** Seconds after the last failure when the count starts over. */
  forget: number;
}

/** Seconds a pair waits after `failures` failures (0 while within the free ones). */
export function backoffSeconds(policy: LoginBackoffPolicy, failures: number): number {
  const over = failures - policy.free;
  if (over <= 0 || !(policy.base > 0)) return 0;
  return Math.min(policy.max, policy.base * 2 ** Math.min(over - 1, 40));
}

/** The backoff store; see the module comment. */
export class LoginBackoff {
  readonly #knex: Knex;
  readonly #policy: LoginBackoffPolicy;
  readonly #now: () => number;

  constructor(knex: Knex, policy: LoginBackoffPolicy, options: { now?: () => number } = {}) {
    if (!(policy.max >= policy.base)) throw new RangeError('LoginBackoff: max must be >= base');
    this.#knex = knex;
    this.#policy = policy;
    this.#now = options.now ?? Date.now;
  }

  /** True when the policy waits at all. */
  get enabled(): boolean {
    return this.#policy.base > 0;
  }

  /** Creates the table when missing (call under a migration lock). */
  async migrate(): Promise<void> {
    if (await this.#knex.schema.hasTable(BACKOFF_TABLE)) return;
    await this.#knex.schema.createTable(BACKOFF_TABLE, (table) => {
      table.text('key').primary();
      table.integer('failures').notNullable();
      table.bigInteger('last_failure').notNullable();
      table.bigInteger('blocked_until').notNullable();
      table.index(['last_failure']);
    });
  }

  /** Seconds `key` must still wait (rounded up), or 0. */
  async waitSeconds(key: string): Promise<number> {
    if (!this.enabled) return 0;
    const row: unknown = await this.#knex(BACKOFF_TABLE).where({ key }).first('blocked_until');
    const until = row !== null && typeof row === 'object' ? Number((row as { blocked_until?: unknown }).blocked_until) : 0;
    const left = until - this.#now();
    return left > 0 ? Math.ceil(left / 1000) : 0;
  }

  /** Counts one failure of `key` (atomically) and returns the wait it now has, in seconds. */
  async fail(key: string): Promise<number> {
    if (!this.enabled) return 0;
    const now = this.#now();
    const stale = now - this.#policy.forget * 1000;
    const t = BACKOFF_TABLE;
    const rows: unknown = await this.#knex(t)
      .insert({ key, failures: 1, last_failure: now, blocked_until: 0 })
      .onConflict('key')
      .merge({
        failures: this.#knex.raw('CASE WHEN ??.?? < ? THEN 1 ELSE ??.?? + 1 END', [t, 'last_failure', stale, t, 'failures']),
        last_failure: now,
      })
      .returning('failures');
    const first: unknown = Array.isArray(rows) ? rows[0] : undefined;
    const failures = first !== null && typeof first === 'object' ? Number((first as { failures?: unknown }).failures) : 1;
    const wait = backoffSeconds(this.#policy, failures);
    if (wait > 0) {
      const until = now + wait * 1000;
      await this.#knex(t).where({ key }).andWhere('blocked_until', '<', until).update({ blocked_until: until });
    }
    return wait;
  }

  /** Forgets the failures of `key` (a successful login). */
  async clear(key: string): Promise<void> {
    if (!this.enabled) return;
    await this.#knex(BACKOFF_TABLE).where({ key }).delete();
  }

  /** Deletes pairs whose failures are forgotten and whose wait is over; returns how many went. */
  async prune(): Promise<number> {
    const now = this.#now();
    return affectedRows(
      await this.#knex(BACKOFF_TABLE)
        .where('last_failure', '<', now - this.#policy.forget * 1000)
        .andWhere('blocked_until', '<', now)
        .delete(),
    );
  }
}
