/** The identity provider down at startup, or when a session needs a refresh: 503s, a clear log, API keys unaffected, recovery. */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { OidcAuthBackend } from '../../../../src/server/auth/backend/oidc.js';
import type { KnexStorage } from '../../../../src/server/storage/knex-storage.js';
import { freshStorage } from '../../../helpers/storage.js';
import { rawLogin, silenceAudit } from '../harness.js';
import { TestProvider } from './provider.js';
import { API_KEY, LogSink, TestClock, loginThroughProvider, oidcBackend, oidcSection, sessionCount, sessionTokens, startOidcServer } from './setup.js';

/** A port nothing listens on (just released by the OS). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Polls `check` every 50 ms until it holds (or fails after `limitMs`). */
async function eventually(check: () => boolean, limitMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > limitMs) throw new Error('condition not reached');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('OIDC with the identity provider down', () => {
  silenceAudit();
  let storage: KnexStorage;
  const providers: TestProvider[] = [];

  beforeAll(async () => {
    storage = await freshStorage('pglite');
  }, 60_000);

  afterAll(async () => {
    for (const provider of providers) await provider.stop();
    await storage?.close();
  });

  it('at startup: logs why, serves API keys and the auth config, answers 503 to logins and bearer tokens, then recovers', async () => {
    const port = await freePort();
    const issuer = `http://127.0.0.1:${port}`;
    const logs = new LogSink();
    const fusion = await startOidcServer({ storage, auth: { backend: { strategy: 'oidc', oidc: oidcSection(issuer) } }, logger: logs });
    try {
      const backend = fusion.auth.backend as OidcAuthBackend;
      expect(backend).toBeInstanceOf(OidcAuthBackend);
      const error = logs.lines.find((line) => line.level === 50);
      expect(error?.msg).toMatch(
        new RegExp(`^auth: OpenID Connect discovery at ${issuer}/\\.well-known/openid-configuration failed \\(connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\\); .* retrying every 0\\.2 s$`),
      );
      expect(backend.providerStatus).toEqual({ ready: false, lastError: `connect ECONNREFUSED 127.0.0.1:${port}` });

      expect((await fusion.call('GET', '/api/probe/op', { apiKey: API_KEY })).body.data).toEqual({ username: 'collector', managed: true });
      expect((await fusion.call('GET', '/api/auth/config')).body.data).toMatchObject({ type: 'oidc', parameters: { issuer } });
      const sessions = await sessionCount(storage);
      const login = await rawLogin(fusion.baseUrl, { code: 'a-code' });
      expect(login.body).toMatchObject({ status: 503, code: 'FUSION_ERR_IDP_UNAVAILABLE' });
      expect(login.body.message).toBe(
        `the identity provider ${issuer} cannot be reached (connect ECONNREFUSED 127.0.0.1:${port}): OpenID Connect logins are unavailable for now, retry later`,
      );
      const bearer = await fusion.call('GET', '/api/auth/is_logged', { bearer: 'a.b.c' });
      expect(bearer.body).toMatchObject({ status: 503, code: 'FUSION_ERR_IDP_UNAVAILABLE' });
      expect(await sessionCount(storage)).toBe(sessions);

      providers.push(await TestProvider.start({ port }));
      await eventually(() => backend.providerStatus.ready); // the background retry found it
      expect(logs.messages).toContain('auth: OpenID Connect discovery succeeded; logins are available again');
      const later = await loginThroughProvider(fusion, issuer);
      expect(later.body).toMatchObject({ status: 200, data: { username: 'alice' } });
    } finally {
      await fusion.stop();
    }
  });

  it('when a refresh is due: 503 and the session kept; refreshed once the provider is back', async () => {
    const provider = await TestProvider.start();
    const clock = new TestClock();
    const fusion = await startOidcServer({ storage, auth: {}, backend: oidcBackend(oidcSection(provider.issuer), clock) });
    let restarted: TestProvider | null = null;
    try {
      const login = await loginThroughProvider(fusion, provider.issuer);
      const before = (await storage.retrieveSession(login.token!))!.data;
      const beforeTokens = await sessionTokens(storage, login.token!);
      await provider.stop();
      clock.advance(3601);
      const down = await fusion.call('GET', '/api/auth/is_logged', { session: login.token! });
      expect(down.body).toMatchObject({ status: 503, code: 'FUSION_ERR_IDP_UNAVAILABLE' });
      expect(down.body.message).toMatch(/^the identity provider cannot be reached \(.*\): retry later$/);
      expect(down.headers['set-cookie']).toBeUndefined();
      expect((await storage.retrieveSession(login.token!))!.data).toEqual(before);

      restarted = await TestProvider.start({ port: provider.port }); // same issuer; grants survive (SharedMemoryAdapter)
      const back = await fusion.call('GET', '/api/auth/is_logged', { session: login.token! });
      expect(back.body).toMatchObject({ status: 200, data: { username: 'alice' } });
      expect(restarted.refreshes).toBe(1);
      expect((await sessionTokens(storage, login.token!))!.accessToken).not.toBe(beforeTokens!.accessToken);
    } finally {
      await fusion.stop();
      await restarted?.stop();
    }
  });
});
