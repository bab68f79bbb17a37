import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ATTEMPTS_TABLE, LoginRateLimiter, clientAddressKey, retryAfterSeconds } from '../../../src/server/auth/rate-limit.js';
import type { KnexStorage } from '../../../src/server/storage/knex-storage.js';
import { freshStorage } from '../../helpers/storage.js';

describe('retryAfterSeconds', () => {
  it('waits inside the bucket while the previous one fades', () => {
    // window 100 s, max 3, previous 4, current 1, 10% in: 4 * (1 - f) + 1 <= 2  =>  f >= 0.75
    expect(retryAfterSeconds(100, 3, 4, 1, 0.1)).toBe(65);
  });

  it('waits into the next bucket when the current one alone is full', () => {
    // max 3, current 3: next bucket needs 3 * (1 - g) <= 2  =>  g >= 1/3; 0.5 of this one remains
    expect(retryAfterSeconds(100, 3, 0, 3, 0.5)).toBe(84);
    // max 1: the one attempt of this bucket must fade out entirely, to the end of the next one
    expect(retryAfterSeconds(1, 1, 0, 1, 0.99)).toBe(2);
  });
});

describe('clientAddressKey', () => {
  it('keeps IPv4 addresses, unwraps IPv4-mapped ones, groups IPv6 by /64', () => {
    expect(clientAddressKey('127.0.0.1')).toBe('client:127.0.0.1');
    expect(clientAddressKey('::ffff:10.1.2.3')).toBe('client:10.1.2.3');
    expect(clientAddressKey('2001:db8:0:1:aaaa::1')).toBe('client:2001:db8:0:1::/64');
    expect(clientAddressKey('2001:0DB8:0000:0001:bbbb:cccc:dddd:eeee')).toBe('client:2001:db8:0:1::/64');
    expect(clientAddressKey('2001:db8::1')).toBe('client:2001:db8:0:0::/64');
    expect(clientAddressKey('::1')).toBe('client:0:0:0:0::/64');
    expect(clientAddressKey('fe80::1%eth0')).toBe('client:fe80:0:0:0::/64');
  });
});

describe('LoginRateLimiter', () => {
  let storage: KnexStorage;
  let now = 1_000_000_000_000;
  let limiter: LoginRateLimiter;

  beforeAll(async () => {
    storage = await freshStorage('pglite');
    limiter = new LoginRateLimiter(storage.knex, 60, { now: () => now });
    await limiter.migrate();
    await limiter.migrate(); // idempotent
  }, 120_000);

  afterAll(async () => {
    await storage?.close();
  });

  it('allows up to max attempts per window, then refuses without counting', async () => {
    const keys = [{ key: 'client:a', max: 3 }];
    for (let i = 0; i < 3; i++) expect((await limiter.reserve(keys)).allowed).toBe(true);
    const refused = await limiter.reserve(keys);
    expect(refused).toEqual({ allowed: false, retryAfter: expect.any(Number) });
    const row = await storage.knex(ATTEMPTS_TABLE).where({ key: 'client:a' }).first('count');
    expect(Number(row.count)).toBe(3);
  });

  it('slides: the previous window weighs less as time passes, then nothing', async () => {
    const keys = [{ key: 'client:slide', max: 2 }];
    now = 6_000_000_000_000; // start of a bucket
    expect((await limiter.reserve(keys)).allowed).toBe(true);
    expect((await limiter.reserve(keys)).allowed).toBe(true);
    now += 60_000 + 1_000; // next bucket, previous weighs ~0.98
    expect((await limiter.reserve(keys)).allowed).toBe(false);
    now += 40_000; // previous weighs ~0.32: 2 * 0.32 + 1 <= 2
    expect((await limiter.reserve(keys)).allowed).toBe(true);
    now += 120_000;
    expect((await limiter.reserve(keys)).allowed).toBe(true);
  });

  it('refunds: successful attempts do not count', async () => {
    const keys = [{ key: 'user:refund', max: 1 }];
    for (let i = 0; i < 5; i++) {
      const outcome = await limiter.reserve(keys);
      expect(outcome.allowed).toBe(true);
      if (outcome.allowed) await limiter.refund(outcome.reservation);
    }
  });

  it('refuses when any key is over, and counts nothing then', async () => {
    const keys = [
      { key: 'client:multi', max: 10 },
      { key: 'user:multi', max: 1 },
    ];
    expect((await limiter.reserve(keys)).allowed).toBe(true);
    expect((await limiter.reserve(keys)).allowed).toBe(false);
    const row = await storage.knex(ATTEMPTS_TABLE).where({ key: 'client:multi' }).first('count');
    expect(Number(row.count)).toBe(1);
  });

  it('counts parallel attempts atomically', async () => {
    const keys = [{ key: 'client:burst', max: 3 }];
    const outcomes = await Promise.all(Array.from({ length: 12 }, () => limiter.reserve(keys)));
    expect(outcomes.filter((o) => o.allowed)).toHaveLength(3);
  });

  it('ignores keys with max 0 (disabled)', async () => {
    for (let i = 0; i < 5; i++) expect((await limiter.reserve([{ key: 'off', max: 0 }])).allowed).toBe(true);
    expect(await storage.knex(ATTEMPTS_TABLE).where({ key: 'off' })).toHaveLength(0);
  });

  it('prunes buckets older than the previous window', async () => {
    now += 10 * 60_000;
    await limiter.reserve([{ key: 'client:fresh', max: 5 }]);
    expect(await limiter.prune()).toBeGreaterThan(0);
    const keys = (await storage.knex(ATTEMPTS_TABLE).select('key')).map((r: { key: string }) => r.key);
    expect(keys).toEqual(['client:fresh']);
  });
});
