/**
 * ensureQueue's retry on deadlock, proven on a real PostgreSQL deadlock: another connection
 * holds the lock pg-boss's create_queue waits for, then waits for create_queue's transaction. The
 * other connection waits 10 s before its deadlock check, ours 1 s (the server default), so
 * create_queue is the victim (40P01), and ensureQueue must create the queue on its retry.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import PgBoss from 'pg-boss';
import { bossDatabase, bossSchema, ensureQueue } from '../../../src/server/task/boss.js';
import type { KnexStorage } from '../../../src/server/storage/knex-storage.js';
import { TEST_PG_URL, freshStorage, isCi, pgUnavailableReason } from '../../helpers/storage.js';

const reason = pgUnavailableReason();
const describePg = reason === null || isCi() ? describe : describe.skip;
if (reason !== null && !isCi()) console.warn(`ensureQueue deadlock test skipped: ${reason}`);

/** Polls `check` every 20 ms until it holds (bound 30 s). */
async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describePg('ensureQueue: retry after a real deadlock (PostgreSQL)', () => {
  let storage: KnexStorage;
  let boss: PgBoss;
  let schema: string;
  const codes: string[] = [];
  const other = new pg.Client({ connectionString: TEST_PG_URL });

  beforeAll(async () => {
    if (reason !== null) throw new Error(reason);
    storage = await freshStorage('postgres');
    schema = bossSchema(storage);
    const db = bossDatabase(storage.knex);
    // pg-boss's SQL through our adapter; every error code it meets is recorded.
    const recording: PgBoss.Db = {
      executeSql: (text, values) =>
        db.executeSql(text, values).catch((error: unknown) => {
          codes.push(String((error as { code?: string }).code));
          throw error;
        }),
    };
    boss = new PgBoss({ db: recording, schema, supervise: false, schedule: false, migrate: true });
    boss.on('error', () => undefined);
    await boss.start();
    await other.connect();
  }, 60_000);

  afterAll(async () => {
    await other.end().catch(() => undefined);
    await boss?.stop({ graceful: false, wait: true, timeout: 1000 });
    await storage?.knex.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [schema]);
    await storage?.close();
  }, 60_000);

  it('the victim of a deadlock inside create_queue is retried: the queue exists and the other transaction went through', async () => {
    await other.query('BEGIN');
    await other.query("SET LOCAL deadlock_timeout = '10s'"); // so the deadlock check fires in create_queue's session first
    // A queue row inserted: ROW EXCLUSIVE on the queue table, which create_queue's foreign key (SHARE ROW EXCLUSIVE) waits for.
    await other.query(`INSERT INTO ${schema}.queue (name, policy, partition_name) VALUES ('held-by-other', 'standard', 'held_by_other')`);
    const created = ensureQueue(boss, 'victim');
    await until('create_queue to wait for the other transaction', async () => {
      await other.query('SELECT pg_stat_clear_snapshot()'); // else the open transaction keeps its first view of pg_stat_activity
      const { rows } = await other.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%create_queue%' AND pid <> pg_backend_pid()",
      );
      return rows[0]!.n > 0;
    });
    // Now insert the queue row create_queue has inserted: wait for its transaction, a cycle. (A lock on
    // the same table would be refused at once in this session, PostgreSQL's early check of a
    // two-party cycle on one lock; a row and a table are two objects, found by the timed check.)
    await other.query(`INSERT INTO ${schema}.queue (name, policy, partition_name) VALUES ('victim', 'standard', 'victim_by_other')`);
    await other.query('ROLLBACK');
    await created;
    expect(codes).toContain('40P01');
    expect(await boss.getQueue('victim')).toMatchObject({ name: 'victim' });
    expect(await boss.getQueue('held-by-other')).toBeNull(); // rolled back
    // and the queue works
    const id = await boss.send('victim', { ok: true });
    expect(await boss.getJobById('victim', id!)).toMatchObject({ data: { ok: true } });
  }, 60_000);
});
