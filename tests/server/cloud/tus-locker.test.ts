/**
 * The tus lock across instances: two storages on one PostgreSQL schema (two instances) lock one
 * upload through AdvisoryTusLocker; the second waits in PostgreSQL (seen in pg_locks) until the
 * first lets go, and one that gives up while waiting (its signal aborts) never holds the lock.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AdvisoryTusLocker, tusLockKey } from '../../../src/server/cloud/tus-locker.js';
import { advisoryLockId } from '../../../src/server/storage/advisory-lock.js';
import { openStorage } from '../../../src/server/storage/open-storage.js';
import type { FusionStorage } from '../../../src/server/storage/storage.js';
import type { KnexStorage } from '../../../src/server/storage/knex-storage.js';
import { TEST_PG_URL, freshStorage } from '../../helpers/storage.js';

describe('AdvisoryTusLocker on PostgreSQL, two instances', () => {
  let storageA: KnexStorage;
  let storageB: FusionStorage;

  beforeAll(async () => {
    storageA = await freshStorage('postgres');
    storageB = await openStorage(TEST_PG_URL, { schema: storageA.schema! });
  }, 60_000);
  afterAll(async () => {
    await storageB?.close();
    await storageA?.close();
  });

  /** How many connections wait in PostgreSQL for the lock of upload `id`. */
  async function waiting(id: string): Promise<number> {
    const lockId = BigInt.asUintN(64, BigInt(advisoryLockId(storageA.schema!, tusLockKey(id))));
    const rows = (await storageA.knex.raw(
      "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND classid = ? AND objid = ? AND objsubid = 1 AND NOT granted",
      [Number(lockId >> 32n), Number(lockId & 0xffffffffn)],
    )) as { rows: { n: number }[] };
    return rows.rows[0]!.n;
  }

  async function until(check: () => Promise<boolean>, what: string): Promise<void> {
    const deadline = Date.now() + 20_000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((done) => setTimeout(done, 20));
    }
  }

  it('B waits in PostgreSQL while A holds the upload, and gets it when A lets go', async () => {
    const id = 'upload-one';
    const onA = new AdvisoryTusLocker(() => storageA).newLock(id);
    const onB = new AdvisoryTusLocker(() => storageB).newLock(id);
    const askedA: string[] = [];
    await onA.lock(new AbortController().signal, async () => {
      askedA.push('release');
    });
    const events: string[] = [];
    const bLocked = onB.lock(new AbortController().signal, async () => undefined).then(() => events.push('B locked'));
    await until(async () => (await waiting(id)) === 1, 'B to wait for the lock in PostgreSQL');
    expect(events).toEqual([]);
    // A holder on another instance is not asked to let go (only holders in the same process are).
    expect(askedA).toEqual([]);
    events.push('A unlocks');
    await onA.unlock();
    await bLocked;
    expect(events).toEqual(['A unlocks', 'B locked']);
    await onB.unlock();
    expect(await waiting(id)).toBe(0);
  }, 60_000);

  it('a lock given up while waiting (signal aborted) fails with FUSION_ERR_LOCK_TIMEOUT and never holds the lock', async () => {
    const id = 'upload-two';
    const onA = new AdvisoryTusLocker(() => storageA).newLock(id);
    await onA.lock(new AbortController().signal, async () => undefined);
    const giveUp = new AbortController();
    const onB = new AdvisoryTusLocker(() => storageB).newLock(id);
    const attempt = onB.lock(giveUp.signal, async () => undefined);
    await until(async () => (await waiting(id)) === 1, 'B to wait for the lock in PostgreSQL');
    giveUp.abort();
    await expect(attempt).rejects.toMatchObject({ code: 'FUSION_ERR_LOCK_TIMEOUT' });
    await onA.unlock();
    // B's abandoned wait lets go at once: a third taker on A gets the lock.
    const again = new AdvisoryTusLocker(() => storageA).newLock(id);
    await again.lock(new AbortController().signal, async () => undefined);
    await again.unlock();
    await onB.unlock();
    await until(async () => (await waiting(id)) === 0, 'no waiter left');
  }, 60_000);
});
