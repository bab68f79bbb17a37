/** Exponential login backoff per (username, client address), in storage, with an injected clock. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { BACKOFF_TABLE, LoginBackoff, backoffSeconds } from '../../../src/server/auth/login-backoff.js';
import type { KnexStorage } from '../../../src/server/storage/knex-storage.js';
import { freshStorage } from '../../helpers/storage.js';

const policy = { free: 2, base: 1, max: 8, forget: 600 };

describe('backoffSeconds', () => {
  it('is free for the first failures, then doubles up to max', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 50].map((n) => backoffSeconds(policy, n))).toEqual([0, 0, 1, 2, 4, 8, 8, 8]);
    expect(backoffSeconds({ ...policy, base: 0 }, 10)).toBe(0);
  });
});

describe('LoginBackoff', () => {
  let storage: KnexStorage;
  let now = 1_000_000_000_000;
  let backoff: LoginBackoff;

  beforeAll(async () => {
    storage = await freshStorage('pglite');
    backoff = new LoginBackoff(storage.knex, policy, { now: () => now });
    await backoff.migrate();
    await backoff.migrate(); // idempotent
  }, 120_000);

  afterAll(async () => {
    await storage?.close();
  });

  it('blocks a pair for a doubling time after the free failures', async () => {
    expect(await backoff.fail('a')).toBe(0);
    expect(await backoff.fail('a')).toBe(0);
    expect(await backoff.waitSeconds('a')).toBe(0);
    expect(await backoff.fail('a')).toBe(1);
    expect(await backoff.waitSeconds('a')).toBe(1);
    now += 1_000;
    expect(await backoff.waitSeconds('a')).toBe(0);
    expect(await backoff.fail('a')).toBe(2);
    now += 500;
    expect(await backoff.waitSeconds('a')).toBe(2); // 1.5 s left, rounded up
    expect(await backoff.waitSeconds('other')).toBe(0);
  });

  it('counts parallel failures atomically', async () => {
    await Promise.all(Array.from({ length: 6 }, () => backoff.fail('burst')));
    const row = await storage.knex(BACKOFF_TABLE).where({ key: 'burst' }).first('failures');
    expect(Number(row.failures)).toBe(6);
    expect(await backoff.waitSeconds('burst')).toBe(8);
  });

  it('starts over after a success, or after `forget` seconds without failure', async () => {
    for (let i = 0; i < 3; i++) await backoff.fail('c');
    await backoff.clear('c');
    expect(await backoff.waitSeconds('c')).toBe(0);
    expect(await backoff.fail('c')).toBe(0);
    for (let i = 0; i < 4; i++) await backoff.fail('d');
    now += 601_000;
    expect(await backoff.fail('d')).toBe(0);
  });

  it('prunes forgotten pairs whose wait is over', async () => {
    now += 20 * 60_000;
    await backoff.fail('fresh');
    expect(await backoff.prune()).toBeGreaterThan(0);
    const keys = (await storage.knex(BACKOFF_TABLE).select('key')).map((r: { key: string }) => r.key);
    expect(keys).toEqual(['fresh']);
  });
});
