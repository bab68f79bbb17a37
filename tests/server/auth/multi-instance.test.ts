import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { hashPassword } from '../../../src/server/auth/backend/basic.js';
import type { KnexStorage } from '../../../src/server/storage/knex-storage.js';
import { openStorage } from '../../../src/server/storage/open-storage.js';
import { TEST_PG_URL, freshStorage, isCi, pgUnavailableReason } from '../../helpers/storage.js';
import type { Running } from './harness.js';
import { raw, rawLogin, silenceAudit, startAuthServer } from './harness.js';

const reason = pgUnavailableReason();
if (reason !== null && !isCi()) console.warn(`auth multi-instance tests skipped: ${reason}`);
const describePg = reason === null || isCi() ? describe : describe.skip;

describePg('two FusionServer instances on one PostgreSQL database', () => {
  silenceAudit();
  let storageA: KnexStorage;
  let storageB: KnexStorage;
  let a: Running;
  let b: Running;

  beforeAll(async () => {
    storageA = await freshStorage('postgres'); // a fresh schema, dropped on close
    storageB = await openStorage(TEST_PG_URL, { schema: storageA.schema! }); // its own pool on the same schema
    const auth = {
      backend: { basic: { users: [{ username: 'alice', digest: await hashPassword('alice-pw'), groups: ['soc'] }] } },
      rate_limit: { window: 3600, max_per_client: 1000, max_per_username: 3 },
    };
    a = await startAuthServer({ storage: storageA, auth });
    b = await startAuthServer({ storage: storageB, auth });
  }, 60_000);

  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await storageB?.close();
    await storageA?.close();
  });

  const cookie = (token: string) => ({ headers: { cookie: `FUSION_SESSION=${token}` } });

  it('serves a session made on one instance from the other, and logs it out everywhere', async () => {
    const login = await rawLogin(a.baseUrl, { username: 'alice', password: 'alice-pw' });
    expect(login.status).toBe(200);
    const onB = await raw(b.baseUrl, 'GET', '/api/auth/is_logged', cookie(login.token!));
    expect(onB.body.data).toEqual({ username: 'alice', groups: ['soc'] });
    expect((await raw(b.baseUrl, 'GET', '/api/auth/logout', cookie(login.token!))).status).toBe(200);
    expect((await raw(a.baseUrl, 'GET', '/api/auth/is_logged', cookie(login.token!))).status).toBe(401);
  });

  it('shares login rate limits between instances', async () => {
    for (const server of [a, b, a]) {
      expect((await rawLogin(server.baseUrl, { username: 'alice', password: 'wrong' })).status).toBe(401);
    }
    expect((await rawLogin(b.baseUrl, { username: 'alice', password: 'alice-pw' })).status).toBe(429);
  });
});
