/**
 * Two Fusion instances on one PostgreSQL database share OIDC sessions: a session opened on one
 * is refreshed by the other, and concurrent requests on both redeem the refresh token once
 * (the public client's refresh tokens rotate: a second redemption would be refused).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { KnexStorage } from '../../../../src/server/storage/knex-storage.js';
import { openStorage } from '../../../../src/server/storage/open-storage.js';
import { TEST_PG_URL, freshStorage, isCi, pgUnavailableReason } from '../../../helpers/storage.js';
import { silenceAudit } from '../harness.js';
import { PUBLIC_CLIENT_ID, TestProvider } from './provider.js';
import type { OidcServer } from './setup.js';
import { TestClock, loginThroughProvider, oidcBackend, oidcSection, sessionTokens, startOidcServer } from './setup.js';

const reason = pgUnavailableReason();
if (reason !== null && !isCi()) console.warn(`OIDC multi-instance tests skipped: ${reason}`);
const describePg = reason === null || isCi() ? describe : describe.skip;

describePg('OIDC sessions across two instances on one PostgreSQL database', () => {
  silenceAudit();
  let provider: TestProvider;
  let storageA: KnexStorage;
  let storageB: KnexStorage;
  let a: OidcServer;
  let b: OidcServer;
  const clock = new TestClock(); // both instances read the same (moved) time

  beforeAll(async () => {
    provider = await TestProvider.start();
    storageA = await freshStorage('postgres');
    storageB = await openStorage(TEST_PG_URL, { schema: storageA.schema! });
    const section = oidcSection(provider.issuer, { client_id: PUBLIC_CLIENT_ID, client_secret: null });
    a = await startOidcServer({ storage: storageA, auth: {}, backend: oidcBackend(section, clock) });
    b = await startOidcServer({ storage: storageB, auth: {}, backend: oidcBackend(section, clock) });
  }, 60_000);

  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await storageB?.close();
    await storageA?.close();
    await provider?.stop();
  });

  it('refreshes on the other instance, once, however many requests race for it', async () => {
    const login = await loginThroughProvider(a, provider.issuer, { clientId: PUBLIC_CLIENT_ID, pkce: true });
    expect(login.status).toBe(200);
    const session = login.token!;
    const before = (await sessionTokens(storageA, session))!;
    const refreshes = provider.refreshes;

    clock.advance(3601);
    const onB = await b.call('GET', '/api/auth/is_logged', { session });
    expect(onB.body.data).toEqual({ username: 'alice', groups: ['soc', 'soc/tier1'] });
    expect(provider.refreshes).toBe(refreshes + 1);
    const afterB = (await sessionTokens(storageA, session))!;
    expect(afterB.refreshToken).not.toBe(before.refreshToken); // rotated by the provider, saved by B, seen by A

    clock.advance(3601);
    const racing = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? a : b).call('GET', '/api/auth/is_logged', { session })));
    expect(racing.map((r) => r.status)).toEqual(Array(8).fill(200));
    expect(provider.refreshes).toBe(refreshes + 2);

    expect((await a.call('GET', '/api/auth/is_logged', { session })).status).toBe(200);
    expect((await b.call('GET', '/api/auth/logout', { session })).status).toBe(200);
    expect((await a.call('GET', '/api/auth/is_logged', { session })).status).toBe(401);
  });
});
