/**
 * pg-boss over our storage. Its SQL runs on knex's own connection (acquired and released per
 * statement), never on a pool or PGlite session of its own: on PGlite (one session) a statement
 * issued beside an open knex transaction would run inside it and vanish on rollback; through
 * knex it waits for the transaction to end instead. Given a knex transaction, the same adapter
 * runs pg-boss's SQL inside it on purpose (a job sent there exists only if it commits).
 * One pg-boss instance per storage and process, shared by reference count (`acquireBoss`).
 */
import type { Knex } from 'knex';
import PgBoss from 'pg-boss';
import type { FusionLogger } from '../../helper/logging.js';
import type { FusionStorage } from '../storage/storage.js';

/** A query result as pg-boss reads it. */
interface SqlResult {
  rows: Record<string, unknown>[];
}

/** A connection knex hands out: pg's Client, or the PGlite instance (which also has `exec`). */
interface RawConnection {
  query(text: string, values?: unknown[]): Promise<SqlResult>;
  exec?(text: string): Promise<SqlResult[]>;
}

interface KnexClientConnections {
  acquireConnection(): Promise<RawConnection>;
  releaseConnection(connection: RawConnection): Promise<unknown> | unknown;
}

/** The `db` pg-boss runs its SQL through: `knex` (a pool) or a knex transaction. */
export function bossDatabase(knex: Knex): PgBoss.Db {
  const client = knex.client as unknown as KnexClientConnections;
  return {
    async executeSql(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }> {
      const connection = await client.acquireConnection();
      try {
        // pg-boss sends some multi-statement scripts without values: PGlite runs those with exec.
        if ((values === undefined || values.length === 0) && typeof connection.exec === 'function') {
          const results = await connection.exec(text);
          return results.at(-1) ?? { rows: [] };
        }
        return await connection.query(text, values ?? []);
      } finally {
        await client.releaseConnection(connection);
      }
    },
  };
}

/** The schema pg-boss's tables live in for `storage`: `<storage schema>_boss`, else `fusion_boss`. */
export function bossSchema(storage: FusionStorage): string {
  return storage.schema ? `${storage.schema}_boss` : 'fusion_boss';
}

interface SharedBoss {
  readonly ready: Promise<PgBoss>;
  users: number;
}

const shared = new WeakMap<FusionStorage, SharedBoss>();

/** A started pg-boss on `storage` and the function that gives it back (the last release stops it). */
export interface BossLease {
  readonly boss: PgBoss;
  release(): Promise<void>;
}

/** Options of acquireBoss. */
export interface AcquireBossOptions {
  /** Receives pg-boss's background errors (default: dropped after a warning on the first). */
  readonly logger?: FusionLogger;
  /** Seconds between pg-boss maintenance runs (expiry, archive; default 60). */
  readonly maintenanceInterval?: number;
}

/**
 * Starts (installing its tables on first use, safe from several processes at once) or reuses
 * the pg-boss of `storage` in this process. Call `release()` before closing the storage:
 * pg-boss keeps timers.
 */
export async function acquireBoss(storage: FusionStorage, options: AcquireBossOptions = {}): Promise<BossLease> {
  let entry = shared.get(storage);
  if (!entry) {
    const boss = new PgBoss({
      db: bossDatabase(storage.knex),
      schema: bossSchema(storage),
      schedule: false, // cron is the task runner's (on its own clock)
      supervise: true,
      migrate: true,
      maintenanceIntervalSeconds: options.maintenanceInterval ?? 60,
    });
    boss.on('error', (error: Error) => options.logger?.warn({ err: error }, 'pg-boss background error'));
    const created: SharedBoss = {
      users: 0,
      ready: boss.start().catch((error: unknown) => {
        shared.delete(storage);
        throw error;
      }),
    };
    shared.set(storage, created);
    entry = created;
  }
  entry.users++;
  const current = entry;
  let boss: PgBoss;
  try {
    boss = await current.ready;
  } catch (error) {
    current.users--;
    throw error;
  }
  let released = false;
  return {
    boss,
    async release() {
      if (released) return;
      released = true;
      if (--current.users > 0) return;
      if (shared.get(storage) === current) shared.delete(storage);
      await boss.stop({ graceful: false, wait: true, timeout: 1000 });
    },
  };
}

/** The queue creations of each pg-boss in this process, run one after another. */
const creations = new WeakMap<PgBoss, Promise<unknown>>();

/**
 * Creates queue `name` unless it exists. Each creation adds a partition to pg-boss's job table,
 * and two at once can deadlock: in this process they run one after another; across processes
 * the deadlock's victim tries again after a short random pause, and a loser of a race for the
 * same name finds the queue made.
 */
export async function ensureQueue(boss: PgBoss, name: string, options: Omit<PgBoss.Queue, 'name'> = {}): Promise<void> {
  if (await boss.getQueue(name)) return;
  const previous = creations.get(boss) ?? Promise.resolve();
  const mine = previous.catch(() => undefined).then(() => createQueue(boss, name, options));
  creations.set(boss, mine);
  await mine;
}

async function createQueue(boss: PgBoss, name: string, options: Omit<PgBoss.Queue, 'name'>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    if (await boss.getQueue(name)) return;
    try {
      await boss.createQueue(name, { name, ...options });
      return;
    } catch (error) {
      if (await boss.getQueue(name)) return;
      if ((error as { code?: string }).code !== DEADLOCK || attempt >= 8) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 50 * attempt));
    }
  }
}

/** PostgreSQL's SQLSTATE for a deadlock (the victim's transaction is rolled back, nothing done). */
const DEADLOCK = '40P01';
