/**
 * Login rate limiting shared by every instance on one storage: a sliding-window counter
 * (two fixed buckets, the previous one weighted by how much of it still overlaps the window)
 * kept in the `fusion_auth_attempts` table. An attempt is counted atomically *before* the
 * password is checked, so a burst of parallel guesses cannot slip past the limit; attempts
 * that succeed, or are refused by the limit itself, are refunded.
 */
import type { Knex } from 'knex';
import { affectedRows } from '../storage/affected-rows.js';

/** Table holding the counters. */
export const ATTEMPTS_TABLE = 'fusion_auth_attempts';

/** One limited key and its maximum per window (0 disables it). */
export interface RateLimitKey {
  key: string;
  max: number;
}

/** A counted attempt, to refund when it turns out not to be a failure. */
export interface RateLimitReservation {
  readonly entries: readonly { key: string; windowStart: number }[];
}

/** Outcome of `reserve`: a reservation, or how many seconds to wait. */
export type RateLimitOutcome = { allowed: true; reservation: RateLimitReservation } | { allowed: false; retryAfter: number };

/**
 * Seconds until one more attempt fits: `previous` and `current` are the bucket counts without
 * the refused attempt, `fraction` how far the current bucket has run (0..1).
 */
export function retryAfterSeconds(windowSeconds: number, max: number, previous: number, current: number, fraction: number): number {
  const room = max - 1; // the next attempt itself counts 1
  let wait: number;
  if (current <= room && previous > 0) {
    // Later in this bucket: previous * (1 - f) + current <= room.
    wait = (1 - (room - current) / previous - fraction) * windowSeconds;
  } else {
    // In the next bucket, where `current` becomes the weighted one: current * (1 - g) <= room.
    const g = current > 0 ? 1 - room / current : 0;
    wait = (1 - fraction + g) * windowSeconds;
  }
  return Math.max(1, Math.ceil(wait));
}

/**
 * The rate-limit key of a client address: IPv4 as is (also when IPv4-mapped), IPv6 by its
 * /64 prefix, since one host usually holds a whole /64 and could rotate through it.
 */
export function clientAddressKey(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return `client:${mapped[1]}`;
  if (!ip.includes(':')) return `client:${ip}`;
  const [head = '', tail = ''] = ip.toLowerCase().split('%')[0]!.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = ip.includes('::') ? (tail === '' ? [] : tail.split(':')) : [];
  const groups = ip.includes('::') ? [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right] : left;
  return `client:${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

/** Counts login attempts per key in storage; see the module comment. */
export class LoginRateLimiter {
  readonly #knex: Knex;
  readonly #windowMs: number;
  readonly #now: () => number;

  constructor(knex: Knex, windowSeconds: number, options: { now?: () => number } = {}) {
    if (!(windowSeconds > 0)) throw new RangeError('LoginRateLimiter: windowSeconds must be > 0');
    this.#knex = knex;
    this.#windowMs = Math.round(windowSeconds * 1000);
    this.#now = options.now ?? Date.now;
  }

  /** Creates the counter table when missing (call under a migration lock). */
  async migrate(): Promise<void> {
    if (await this.#knex.schema.hasTable(ATTEMPTS_TABLE)) return;
    await this.#knex.schema.createTable(ATTEMPTS_TABLE, (table) => {
      table.text('key').notNullable();
      table.bigInteger('window_start').notNullable();
      table.integer('count').notNullable().defaultTo(0);
      table.primary(['key', 'window_start']);
      table.index(['window_start']);
    });
  }

  /** Counts one attempt on every key; refused (and not counted) when any key is over its max. */
  async reserve(keys: readonly RateLimitKey[]): Promise<RateLimitOutcome> {
    const now = this.#now();
    const windowStart = Math.floor(now / this.#windowMs) * this.#windowMs;
    const fraction = (now - windowStart) / this.#windowMs;
    const entries: { key: string; windowStart: number }[] = [];
    let retryAfter = 0;
    for (const { key, max } of keys) {
      if (!(max > 0)) continue;
      const current = await this.#increment(key, windowStart);
      entries.push({ key, windowStart });
      const previous = await this.#count(key, windowStart - this.#windowMs);
      if (previous * (1 - fraction) + current > max) {
        const wait = retryAfterSeconds(this.#windowMs / 1000, max, previous, current - 1, fraction);
        retryAfter = Math.max(retryAfter, wait);
      }
    }
    const reservation = { entries };
    if (retryAfter > 0) {
      await this.refund(reservation);
      return { allowed: false, retryAfter };
    }
    return { allowed: true, reservation };
  }

  /** Takes back the attempts of a reservation (a successful login, a malformed request). */
  async refund(reservation: RateLimitReservation): Promise<void> {
    for (const { key, windowStart } of reservation.entries) {
      await this.#knex(ATTEMPTS_TABLE)
        .where({ key, window_start: windowStart })
        .andWhere('count', '>', 0)
        .decrement('count', 1);
    }
  }

  /** Deletes the buckets too old to matter; returns how many went. */
  async prune(): Promise<number> {
    const horizon = Math.floor(this.#now() / this.#windowMs) * this.#windowMs - this.#windowMs;
    return affectedRows(await this.#knex(ATTEMPTS_TABLE).where('window_start', '<', horizon).delete());
  }

  async #increment(key: string, windowStart: number): Promise<number> {
    const rows: unknown = await this.#knex(ATTEMPTS_TABLE)
      .insert({ key, window_start: windowStart, count: 1 })
      .onConflict(['key', 'window_start'])
      .merge({ count: this.#knex.raw('??.?? + 1', [ATTEMPTS_TABLE, 'count']) })
      .returning('count');
    return countOf(Array.isArray(rows) ? rows[0] : undefined);
  }

  async #count(key: string, windowStart: number): Promise<number> {
    const row: unknown = await this.#knex(ATTEMPTS_TABLE).where({ key, window_start: windowStart }).first('count');
    return countOf(row);
  }
}

function countOf(row: unknown): number {
  if (row === null || typeof row !== 'object') return 0;
  const value = Number((row as { count?: unknown }).count);
  return Number.isFinite(value) ? value : 0;
}
