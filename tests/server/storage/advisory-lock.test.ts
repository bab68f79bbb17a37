import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from '@jest/globals';
import type { Knex } from 'knex';
import { Case } from '../../../src/concept/index.js';
import { advisoryLockId } from '../../../src/server/storage/advisory-lock.js';
import { openStorage } from '../../../src/server/storage/open-storage.js';
import { TEST_PG_URL, describeStorage, freshStorage, quietLogger } from '../../helpers/storage.js';

/** A promise plus its resolve function. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** Polls `condition` until true; fails after `ms` (a generous bound, not a speed assertion). */
async function waitFor(condition: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(20);
  }
}

/** pg_locks condition and bindings selecting the advisory lock of `key` in `namespace`. */
function lockRow(namespace: string, key: string): [string, string[]] {
  const id = BigInt.asUintN(64, BigInt(advisoryLockId(namespace, key)));
  return [
    `locktype = 'advisory' AND classid = ?::bigint::oid AND objid = ?::bigint::oid AND objsubid = 1`,
    [(id >> 32n).toString(), (id & 0xffffffffn).toString()],
  ];
}

/** How many sessions wait in PostgreSQL for the advisory lock of `key` in `namespace`. */
async function pgWaiters(knex: Knex, namespace: string, key: string): Promise<number> {
  const [where, bindings] = lockRow(namespace, key);
  const result = await knex.raw<{ rows: { n: string }[] }>(`SELECT count(*) AS n FROM pg_locks WHERE ${where} AND NOT granted`, bindings);
  return Number(result.rows[0]?.n ?? 0);
}

describe('advisoryLockId', () => {
  it('is a stable signed int64 that depends on namespace and key', () => {
    const id = advisoryLockId('schema_a', 'sync');
    expect(id).toBe(advisoryLockId('schema_a', 'sync'));
    expect(BigInt(id)).toBe(BigInt.asIntN(64, BigInt(id)));
    expect(advisoryLockId('schema_b', 'sync')).not.toBe(id);
    expect(advisoryLockId('schema_a', 'sync2')).not.toBe(id);
    expect(advisoryLockId('a', 'b\u0000c')).not.toBe(advisoryLockId('a\u0000b', 'c'));
  });
});

describeStorage('storage: advisory locks', (getStorage, kind) => {
  it('runs holders of one key one after another', async () => {
    const storage = getStorage();
    const key = `serial-${randomUUID()}`;
    const events: string[] = [];
    const hold = gate();
    const inside = gate();
    const first = storage.withAdvisoryLock(key, async () => {
      events.push('a:in');
      inside.open();
      await hold.promise;
      events.push('a:out');
      return 'a';
    });
    await inside.promise;
    const second = storage.withAdvisoryLock(key, async () => {
      events.push('b:in');
      return 'b';
    });
    await sleep(300); // room for the second holder to enter wrongly
    expect(events).toEqual(['a:in']);
    hold.open();
    expect(await Promise.all([first, second])).toEqual(['a', 'b']);
    expect(events).toEqual(['a:in', 'a:out', 'b:in']);
  });

  it('does not block other keys, and the locked function can use storage', async () => {
    const storage = getStorage();
    const outer = `outer-${randomUUID()}`;
    const result = await storage.withAdvisoryLock(outer, async () => {
      const c = await storage.createCase(new Case({ name: 'made under lock' }));
      const inner = await storage.withAdvisoryLock(`inner-${randomUUID()}`, async () => storage.retrieveCase(Case, c.guid));
      return inner?.name;
    });
    expect(result).toBe('made under lock');
  });

  it('releases the lock when the function throws', async () => {
    const storage = getStorage();
    const key = `throws-${randomUUID()}`;
    await expect(
      storage.withAdvisoryLock(key, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await storage.tryAdvisoryLock(key, async () => 'free')).toEqual({ acquired: true, value: 'free' });
  });

  it('tries without waiting', async () => {
    const storage = getStorage();
    const key = `try-${randomUUID()}`;
    const attempt = await storage.withAdvisoryLock(key, () => storage.tryAdvisoryLock(key, async () => 'never'));
    expect(attempt).toEqual({ acquired: false });
    expect(await storage.tryAdvisoryLock(key, async () => 42)).toEqual({ acquired: true, value: 42 });
  });

  it('hands the function a signal that stays quiet while the lock is held', async () => {
    const signal = await getStorage().withAdvisoryLock(`signal-${randomUUID()}`, async (s) => s);
    expect(signal).toBeInstanceOf(AbortSignal);
    expect(signal.aborted).toBe(false);
  });

  it('refuses an empty key', async () => {
    await expect(getStorage().withAdvisoryLock('', async () => 1)).rejects.toMatchObject({ code: 'FUSION_ERR_BAD_REQUEST' });
  });

  if (kind === 'postgres') {
    it('excludes across two storages (two pools) on the same schema', async () => {
      const storage = getStorage();
      const other = await openStorage(TEST_PG_URL, { schema: storage.schema! });
      try {
        const key = `shared-${randomUUID()}`;
        const events: string[] = [];
        const hold = gate();
        const inside = gate();
        const first = storage.withAdvisoryLock(key, async () => {
          events.push('a:in');
          inside.open();
          await hold.promise;
          events.push('a:out');
        });
        await inside.promise;
        expect(await other.tryAdvisoryLock(key, async () => 'x')).toEqual({ acquired: false });
        const second = other.withAdvisoryLock(key, async () => {
          events.push('b:in');
        });
        await waitFor(async () => (await pgWaiters(storage.knex, storage.schema!, key)) === 1);
        expect(events).toEqual(['a:in']);
        hold.open();
        await Promise.all([first, second]);
        expect(events).toEqual(['a:in', 'a:out', 'b:in']);
        expect(await pgWaiters(storage.knex, storage.schema!, key)).toBe(0);
      } finally {
        await other.close();
      }
    });

    it('aborts the signal when the connection holding the lock breaks', async () => {
      const storage = getStorage();
      const key = `lost-${randomUUID()}`;
      const [where, bindings] = lockRow(storage.schema!, key);
      const reason = await storage.withAdvisoryLock(key, async (signal) => {
        await storage.knex.raw(`SELECT pg_terminate_backend(pid) FROM pg_locks WHERE ${where} AND granted`, bindings);
        await waitFor(async () => signal.aborted);
        return signal.reason as unknown;
      });
      expect(reason).toMatchObject({ code: 'FUSION_ERR_STORAGE', message: expect.stringContaining(`advisory lock "${key}" lost`) });
      expect(await storage.tryAdvisoryLock(key, async () => 'free again')).toEqual({ acquired: true, value: 'free again' });
    });

    it('does not exclude storages of different schemas', async () => {
      const storage = getStorage();
      const elsewhere = await freshStorage('postgres');
      try {
        const key = `per-schema-${randomUUID()}`;
        const attempt = await storage.withAdvisoryLock(key, () => elsewhere.tryAdvisoryLock(key, async () => 'also mine'));
        expect(attempt).toEqual({ acquired: true, value: 'also mine' });
      } finally {
        await elsewhere.close();
      }
    });
  }
}, { logger: quietLogger });
