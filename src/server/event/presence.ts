/**
 * Who is subscribed to which case, across instances. Each instance keeps a count of its own
 * SSE streams per (case, user) in memory and one row per (case, user, instance) in
 * fusion_event_presence, refreshed by a heartbeat and expiring `ttl` seconds after the last
 * one (an instance that crashed drops out by itself; the prune task then emits `unsubscribe`).
 * Joins and leaves of one case are serialized across instances by a transaction-scoped
 * advisory lock, so "first stream of this user anywhere" and "last one" are decided exactly.
 * With a `grace`, the last stream's leave waits that long and a new stream of the same user
 * and case meanwhile cancels it: a client that reconnects, or opens and closes streams in
 * quick turns, causes no subscribe/unsubscribe pair each time.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { advisoryLockId } from '../storage/advisory-lock.js';
import { KeyedMutex } from '../storage/keyed-mutex.js';
import type { FusionStorage } from '../storage/storage.js';

/** The presence table. */
export const PRESENCE_TABLE = 'fusion_event_presence';

/** A (case, user) pair whose last subscription ended. */
export interface PresenceDeparture {
  readonly caseGuid: string;
  readonly username: string;
}

function rowsOf<T>(result: unknown): T[] {
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}

/** Options of Presence. */
export interface PresenceOptions {
  /** Seconds a leave waits for a new stream of the same (case, user) before it happens (default 0: at once). */
  grace?: number;
  /** Called with the error of a delayed leave (default: ignored; the row then expires by itself). */
  onError?: (error: unknown) => void;
}

/** A leave waiting for its grace to pass. */
interface PendingLeave {
  caseGuid: string;
  username: string;
  timer: NodeJS.Timeout;
  announce: (() => Promise<unknown>) | undefined;
}

/** This instance's share of the presence table. */
export class Presence {
  /** Identifies this instance's rows. */
  readonly instanceId = randomUUID();
  readonly #storage: FusionStorage;
  readonly #ttl: number;
  readonly #graceMs: number;
  readonly #onError: (error: unknown) => void;
  readonly #local = new Map<string, Map<string, number>>();
  readonly #pending = new Map<string, PendingLeave>();
  readonly #settling = new Set<Promise<void>>();
  readonly #mutex = new KeyedMutex();

  /** `ttl`: seconds a row lives without a heartbeat. */
  constructor(storage: FusionStorage, ttl: number, options: PresenceOptions = {}) {
    this.#storage = storage;
    this.#ttl = ttl;
    this.#graceMs = Math.max(0, (options.grace ?? 0) * 1000);
    this.#onError = options.onError ?? (() => undefined);
  }

  /** Leaves waiting for their grace to pass. */
  get pendingLeaves(): number {
    return this.#pending.size;
  }

  /**
   * Counts a new stream of `username` on `caseGuid`; true when the user was subscribed on no
   * instance before. `announce` then runs before any later join or leave of the same user here
   * (so a `subscribe` event is stored before the matching `unsubscribe`).
   */
  join(caseGuid: string, username: string, announce?: () => Promise<unknown>): Promise<boolean> {
    const key = `${caseGuid}\n${username}`;
    return this.#mutex.run(key, async () => {
      const users = this.#local.get(caseGuid) ?? new Map<string, number>();
      this.#local.set(caseGuid, users);
      const count = (users.get(username) ?? 0) + 1;
      users.set(username, count);
      const pending = this.#pending.get(key);
      if (pending !== undefined) {
        // Back within the grace: the row never went away, nobody was told of a leave.
        clearTimeout(pending.timer);
        this.#pending.delete(key);
        return false;
      }
      if (count > 1) return false;
      let first: boolean;
      try {
        first = await this.#locked(caseGuid, async (trx) => {
          const elsewhere = await this.#presentElsewhere(trx, caseGuid, username);
          await trx.raw(
            `INSERT INTO ${PRESENCE_TABLE} (case_guid, username, instance_id, expires_at) VALUES (?, ?, ?, now() + (?::float8 * interval '1 second'))
             ON CONFLICT (case_guid, username, instance_id) DO UPDATE SET expires_at = EXCLUDED.expires_at`,
            [caseGuid, username, this.instanceId, this.#ttl],
          );
          return !elsewhere;
        });
      } catch (error) {
        this.#forget(caseGuid, username);
        throw error;
      }
      if (first) await announce?.();
      return first;
    });
  }

  /**
   * Uncounts a stream; true when it was the user's last one on any instance (`announce` then
   * runs, as in join). With a grace, the user's last stream here schedules the leave instead
   * (false now; `announce` runs when the grace has passed with no new stream).
   */
  leave(caseGuid: string, username: string, announce?: () => Promise<unknown>): Promise<boolean> {
    const key = `${caseGuid}\n${username}`;
    return this.#mutex.run(key, async () => {
      if (!this.#forget(caseGuid, username)) return false;
      if (this.#graceMs === 0) return this.#leaveNow(caseGuid, username, announce);
      const pending: PendingLeave = { caseGuid, username, announce, timer: setTimeout(() => this.#track(this.#settle(key, pending)), this.#graceMs) };
      pending.timer.unref();
      this.#pending.set(key, pending);
      return false;
    });
  }

  /** Runs every scheduled leave now (at shutdown, so `unsubscribe` events are not lost). */
  async flush(): Promise<void> {
    for (const [key, pending] of [...this.#pending.entries()]) this.#track(this.#settle(key, pending));
    await Promise.all([...this.#settling]);
  }

  #track(settling: Promise<void>): void {
    this.#settling.add(settling);
    void settling.finally(() => this.#settling.delete(settling));
  }

  async #settle(key: string, pending: PendingLeave): Promise<void> {
    clearTimeout(pending.timer);
    try {
      await this.#mutex.run(key, async () => {
        if (this.#pending.get(key) !== pending) return; // a new stream came back meanwhile
        this.#pending.delete(key);
        await this.#leaveNow(pending.caseGuid, pending.username, pending.announce);
      });
    } catch (error) {
      this.#onError(error);
    }
  }

  async #leaveNow(caseGuid: string, username: string, announce?: () => Promise<unknown>): Promise<boolean> {
    const last = await this.#locked(caseGuid, async (trx) => {
      await trx.raw(`DELETE FROM ${PRESENCE_TABLE} WHERE case_guid = ? AND username = ? AND instance_id = ?`, [caseGuid, username, this.instanceId]);
      return !(await this.#presentElsewhere(trx, caseGuid, username));
    });
    if (last) await announce?.();
    return last;
  }

  /** Usernames subscribed to `caseGuid` on any live instance, sorted. */
  async subscribers(caseGuid: string): Promise<string[]> {
    const result = await this.#storage.knex.raw(
      `SELECT DISTINCT username FROM ${PRESENCE_TABLE} WHERE case_guid = ? AND expires_at > now() ORDER BY username`,
      [caseGuid],
    );
    return rowsOf<{ username: string }>(result).map((row) => row.username);
  }

  /** Refreshes (or re-creates) this instance's rows. */
  async heartbeat(): Promise<void> {
    const pairs: [string, string][] = [];
    for (const [caseGuid, users] of this.#local) for (const username of users.keys()) pairs.push([caseGuid, username]);
    for (const { caseGuid, username } of this.#pending.values()) pairs.push([caseGuid, username]); // still present during the grace
    for (let i = 0; i < pairs.length; i += 500) {
      const slice = pairs.slice(i, i + 500);
      const values = slice.map(() => `(?::uuid, ?, ?::uuid, now() + (?::float8 * interval '1 second'))`).join(', ');
      await this.#storage.knex.raw(
        `INSERT INTO ${PRESENCE_TABLE} (case_guid, username, instance_id, expires_at) VALUES ${values}
         ON CONFLICT (case_guid, username, instance_id) DO UPDATE SET expires_at = EXCLUDED.expires_at`,
        slice.flatMap(([caseGuid, username]) => [caseGuid, username, this.instanceId, this.#ttl]),
      );
    }
  }

  /**
   * Deletes expired rows (instances that stopped refreshing) and returns the (case, user)
   * pairs now subscribed nowhere, for `unsubscribe` events. Run by one instance at a time.
   */
  async expire(): Promise<PresenceDeparture[]> {
    const expired = rowsOf<{ case_guid: string; username: string }>(
      await this.#storage.knex.raw(`DELETE FROM ${PRESENCE_TABLE} WHERE expires_at <= now() RETURNING case_guid::text AS case_guid, username`),
    );
    const seen = new Set<string>();
    const departures: PresenceDeparture[] = [];
    for (const row of expired) {
      const key = `${row.case_guid}\n${row.username}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const live = await this.#storage.knex.raw(
        `SELECT 1 FROM ${PRESENCE_TABLE} WHERE case_guid = ? AND username = ? AND expires_at > now() LIMIT 1`,
        [row.case_guid, row.username],
      );
      if (rowsOf(live).length === 0) departures.push({ caseGuid: row.case_guid, username: row.username });
    }
    return departures;
  }

  /** Deletes this instance's rows (at shutdown, after its streams ended). */
  async clear(): Promise<void> {
    for (const pending of this.#pending.values()) clearTimeout(pending.timer);
    this.#pending.clear();
    this.#local.clear();
    await this.#storage.knex.raw(`DELETE FROM ${PRESENCE_TABLE} WHERE instance_id = ?`, [this.instanceId]);
  }

  /** Decrements the local count; true when it reached zero. */
  #forget(caseGuid: string, username: string): boolean {
    const users = this.#local.get(caseGuid);
    const count = users?.get(username) ?? 0;
    if (users === undefined || count === 0) return false;
    if (count > 1) {
      users.set(username, count - 1);
      return false;
    }
    users.delete(username);
    if (users.size === 0) this.#local.delete(caseGuid);
    return true;
  }

  async #presentElsewhere(trx: Knex.Transaction, caseGuid: string, username: string): Promise<boolean> {
    const result = await trx.raw(
      `SELECT 1 FROM ${PRESENCE_TABLE} WHERE case_guid = ? AND username = ? AND instance_id <> ? AND expires_at > now() LIMIT 1`,
      [caseGuid, username, this.instanceId],
    );
    return rowsOf(result).length > 0;
  }

  #locked<T>(caseGuid: string, fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
    const lockId = advisoryLockId(this.#storage.schema ?? '', `fusion:event:presence:${caseGuid}`);
    return this.#storage.knex.transaction(async (trx) => {
      await trx.raw('SELECT pg_advisory_xact_lock(?::bigint)', [lockId]);
      return fn(trx);
    });
  }
}
