/**
 * Login throttling per (username, client address): wrong passwords from one address cannot lock
 * the owner out from another; a high global per-username ceiling still holds.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request } from 'undici';
import { FusionClient } from '../../../src/client/client.js';
import { FusionAuthAPIClient } from '../../../src/client/api/auth.js';
import type { FusionClientError } from '../../../src/client/errors.js';
import type { KnexStorage } from '../../../src/server/storage/knex-storage.js';
import type { TestServer } from '../../../src/testing/index.js';
import { freshStorage } from '../../helpers/storage.js';
import { raw, silenceAudit, startCaseServer } from '../case/helpers.js';

silenceAudit();

let storage: KnexStorage;
let t: TestServer;

beforeAll(async () => {
  storage = await freshStorage('pglite');
  t = await startCaseServer(storage, {
    config: { server: { trust_proxy: true }, auth: { rate_limit: { window: 3600, max_per_client: 100, max_per_username: 3, max_per_username_global: 8 } } },
  });
}, 60_000);

afterAll(async () => {
  await t?.close();
  await storage?.close();
});

const login = (from: string, password: string) =>
  raw(t.baseUrl, 'POST', '/api/auth/login', { headers: { 'x-forwarded-for': from }, json: { data: { username: 'bob', password } } });

describe('login throttling per (username, address)', () => {
  it('lets the owner in from elsewhere while an attacker is throttled, and keeps a global ceiling', async () => {
    for (let i = 0; i < 3; i++) expect((await login('203.0.113.7', 'guess')).status).toBe(401);
    const throttled = await login('203.0.113.7', 'guess');
    expect(throttled).toMatchObject({ status: 429, body: { code: 'FUSION_ERR_RATE_LIMITED' } });
    // The owner, from their own address, is not locked out.
    expect((await login('198.51.100.20', 'bob-pw')).status).toBe(200);
    // Many addresses together reach the global per-username ceiling.
    const statuses: number[] = [];
    for (let i = 1; i <= 8; i++) statuses.push((await login(`192.0.2.${i}`, 'guess')).status);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
  });
});

describe('login backoff per (username, address)', () => {
  let backoffServer: TestServer;

  beforeAll(async () => {
    backoffServer = await startCaseServer(storage, {
      config: {
        server: { trust_proxy: true },
        auth: { rate_limit: { window: 3600, max_per_client: 100, max_per_username: 100, backoff_after: 2, backoff_base: 600, backoff_max: 3600 } },
      },
    });
  }, 60_000);

  afterAll(async () => {
    await backoffServer?.close();
  });

  /** POST /api/auth/login from `from`: status, envelope and headers. */
  const attempt = async (username: string, from: string, password: string) => {
    const response = await request(`${backoffServer.baseUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'x-forwarded-for': from, 'content-type': 'application/json' },
      body: JSON.stringify({ data: { username, password } }),
    });
    return { status: response.statusCode, headers: response.headers, body: (await response.body.json()) as Record<string, unknown> };
  };

  it('makes a pair wait after the free failures, far below the window limit, and not the owner elsewhere', async () => {
    for (let i = 0; i < 3; i++) expect((await attempt('alice', '203.0.113.50', 'guess')).status).toBe(401);
    const blocked = await attempt('alice', '203.0.113.50', 'alice-pw'); // right password, still waits
    expect(blocked).toMatchObject({ status: 429, body: { status: 429, code: 'FUSION_ERR_RATE_LIMITED' } });
    const wait = Number(blocked.headers['retry-after']);
    expect(wait).toBeGreaterThan(500);
    expect(wait).toBeLessThanOrEqual(600);
    expect(String(blocked.body.message)).toContain(`retry in ${wait} s`);
    expect(blocked.body.retry_after).toBe(wait);
    expect((await attempt('alice', '198.51.100.50', 'alice-pw')).status).toBe(200);
    // The typed client exposes the wait.
    const client = new FusionClient({ baseUrl: backoffServer.baseUrl, headers: { 'x-forwarded-for': '203.0.113.50' } });
    try {
      const refused = await new FusionAuthAPIClient({ client }).login('alice', 'alice-pw').then(
        () => null,
        (error: unknown) => error as FusionClientError,
      );
      expect(refused).toMatchObject({ status: 429, code: 'FUSION_ERR_RATE_LIMITED' });
      expect(refused!.retryAfter).toBeGreaterThan(wait - 30); // a little time has passed since
      expect(refused!.retryAfter).toBeLessThanOrEqual(wait);
    } finally {
      await client.close();
    }
  });

  it('holds across instances on the same storage', async () => {
    const other = await startCaseServer(storage, {
      config: {
        server: { trust_proxy: true },
        auth: { rate_limit: { window: 3600, max_per_client: 100, max_per_username: 100, backoff_after: 2, backoff_base: 600, backoff_max: 3600 } },
      },
    });
    try {
      for (let i = 0; i < 3; i++) expect((await attempt('bob', '203.0.113.70', 'guess')).status).toBe(401);
      const elsewhere = await request(`${other.baseUrl}/api/auth/login`, {
        method: 'POST',
        headers: { 'x-forwarded-for': '203.0.113.70', 'content-type': 'application/json' },
        body: JSON.stringify({ data: { username: 'bob', password: 'bob-pw' } }),
      });
      expect(elsewhere.statusCode).toBe(429);
      expect(Number(elsewhere.headers['retry-after'])).toBeGreaterThan(500);
      await elsewhere.body.dump();
    } finally {
      await other.close();
    }
  });

  it('forgets the failures of a pair once it logs in', async () => {
    for (let i = 0; i < 2; i++) expect((await attempt('bob', '203.0.113.60', 'guess')).status).toBe(401);
    expect((await attempt('bob', '203.0.113.60', 'bob-pw')).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await attempt('bob', '203.0.113.60', 'guess')).status).toBe(401);
    expect((await attempt('bob', '203.0.113.60', 'bob-pw')).status).toBe(200);
  });
});
