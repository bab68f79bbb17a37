import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { hashPassword } from '../../../src/server/auth/backend/basic.js';
import type { KnexStorage } from '../../../src/server/storage/knex-storage.js';
import { freshStorage } from '../../helpers/storage.js';
import type { Running } from './harness.js';
import { rawLogin, silenceAudit, startAuthServer } from './harness.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function users() {
  return [
    { username: 'alice', digest: await hashPassword('alice-pw') },
    { username: 'bob', digest: await hashPassword('bob-pw') },
  ];
}

describe('login rate limiting', () => {
  silenceAudit();
  describe('counting (one-hour window)', () => {
    let storage: KnexStorage;
    let running: Running;

    beforeAll(async () => {
      storage = await freshStorage('pglite');
      running = await startAuthServer({
        storage,
        auth: { backend: { basic: { users: await users() } }, rate_limit: { window: 3600, max_per_client: 6, max_per_username: 3 } },
      });
    }, 120_000);

    afterAll(async () => {
      await running?.stop();
      await storage?.close();
    });

    it('lets through exactly max_per_username of a parallel burst of wrong guesses', async () => {
      const answers = await Promise.all(Array.from({ length: 10 }, () => rawLogin(running.baseUrl, { username: 'carol', password: 'guess' })));
      const statuses = answers.map((a) => a.status).sort();
      expect(statuses).toEqual([401, 401, 401, 429, 429, 429, 429, 429, 429, 429]);
      const limited = answers.find((a) => a.status === 429)!;
      expect(limited.body.code).toBe('FUSION_ERR_RATE_LIMITED');
      expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(limited.token).toBeNull();
    });

    it('limits per username even with the right password, and per client address across usernames', async () => {
      for (let i = 0; i < 3; i++) expect((await rawLogin(running.baseUrl, { username: 'alice', password: 'wrong' })).status).toBe(401);
      // alice: 3 failures → limited, right password or not (the password is not even checked).
      expect((await rawLogin(running.baseUrl, { username: 'alice', password: 'alice-pw' })).status).toBe(429);
      // this client: 3 (carol) + 3 (alice) failures = max_per_client → bob is refused too.
      expect((await rawLogin(running.baseUrl, { username: 'bob', password: 'bob-pw' })).status).toBe(429);
    });
  });

  describe('recovery (one-second window)', () => {
    let storage: KnexStorage;
    let running: Running;

    beforeAll(async () => {
      storage = await freshStorage('pglite');
      running = await startAuthServer({
        storage,
        auth: { backend: { basic: { users: await users() } }, rate_limit: { window: 1, max_per_client: 100, max_per_username: 2 } },
      });
    }, 120_000);

    afterAll(async () => {
      await running?.stop();
      await storage?.close();
    });

    it('answers 429 once over the limit, then lets the user in after Retry-After', async () => {
      const statuses: number[] = [];
      let answer = await rawLogin(running.baseUrl, { username: 'bob', password: 'wrong' });
      // Keep failing until limited (the window may roll over between two attempts).
      for (let i = 0; i < 10 && answer.status === 401; i++) {
        statuses.push(answer.status);
        answer = await rawLogin(running.baseUrl, { username: 'bob', password: 'wrong' });
      }
      expect(statuses.length).toBeGreaterThanOrEqual(2);
      expect(answer.status).toBe(429);
      const wait = Number(answer.headers['retry-after']);
      expect(wait).toBeGreaterThanOrEqual(1);
      expect(wait).toBeLessThanOrEqual(2);
      await sleep(wait * 1000);
      const success = await rawLogin(running.baseUrl, { username: 'bob', password: 'bob-pw' });
      expect(success.status).toBe(200);
      expect(success.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    });
  });
});
