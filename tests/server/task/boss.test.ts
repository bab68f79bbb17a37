import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type PgBoss from 'pg-boss';
import { acquireBoss, bossDatabase, ensureQueue } from '../../../src/server/task/boss.js';
import type { BossLease } from '../../../src/server/task/boss.js';
import { describeStorage } from '../../helpers/storage.js';

describeStorage('pg-boss on our storage', (getStorage) => {
  let lease: BossLease;
  let boss: PgBoss;
  beforeAll(async () => {
    lease = await acquireBoss(getStorage());
    boss = lease.boss;
    await ensureQueue(boss, 'jobs');
  }, 60_000);
  afterAll(async () => {
    await lease?.release();
  });

  it('shares one started instance per storage and process', async () => {
    const again = await acquireBoss(getStorage());
    try {
      expect(again.boss).toBe(boss);
    } finally {
      await again.release();
    }
    expect(await boss.getQueue('jobs')).toMatchObject({ name: 'jobs' });
  });

  it('ensureQueue: eight queues created at once in one process all exist (creations run one at a time: two at once can deadlock on PostgreSQL)', async () => {
    const names = Array.from({ length: 8 }, (_, i) => `racing-${i}`);
    await Promise.all(names.map((name) => ensureQueue(boss, name)));
    await Promise.all(names.map((name) => ensureQueue(boss, name))); // again: a no-op
    for (const name of names) expect(await boss.getQueue(name)).toMatchObject({ name });
  });

  it('fetches by priority, then oldest first, each job once', async () => {
    await ensureQueue(boss, 'ordered');
    for (const [n, priority] of [[1, 10], [2, 30], [3, 20], [4, 30]] as const) await boss.send('ordered', { n }, { priority });
    const seen: number[] = [];
    for (;;) {
      const [job] = await boss.fetch<{ n: number }>('ordered');
      if (!job) break;
      seen.push(job.data.n);
      await boss.complete('ordered', job.id);
    }
    expect(seen).toEqual([2, 4, 3, 1]);
  });

  it('a job sent inside a rolled-back transaction does not exist; a committed one does', async () => {
    const { knex } = getStorage();
    await ensureQueue(boss, 'tx');
    let rolledBackId: string | null = null;
    await expect(
      knex.transaction(async (trx) => {
        rolledBackId = await boss.send('tx', { keep: false }, { db: bossDatabase(trx) });
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(rolledBackId).toEqual(expect.any(String));
    expect(await boss.getJobById('tx', rolledBackId!)).toBeNull();
    const keptId = await knex.transaction((trx) => boss.send('tx', { keep: true }, { db: bossDatabase(trx) }));
    expect(await boss.getJobById('tx', keptId!)).toMatchObject({ data: { keep: true } });
    const fetched = await boss.fetch<{ keep: boolean }>('tx', { batchSize: 10 });
    expect(fetched.map((job) => job.data)).toEqual([{ keep: true }]);
  });

  it('a send while a knex transaction is open waits for it and survives its rollback', async () => {
    const { knex } = getStorage();
    await ensureQueue(boss, 'beside');
    let sent: Promise<string | null> | undefined;
    await expect(
      knex.transaction(async (trx) => {
        await trx.raw('SELECT 1');
        sent = boss.send('beside', { beside: true });
        await new Promise((resolve) => setImmediate(resolve));
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    const id = await sent!;
    expect(await boss.getJobById('beside', id!)).toMatchObject({ data: { beside: true } });
  });
});
