/** The authorization-code flow against a real oidc-provider: login, refresh on expiry, refused refresh, logout, tokens sealed at rest. */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as oidc from 'openid-client';
import type { KnexStorage } from '../../../../src/server/storage/knex-storage.js';
import { freshStorage } from '../../../helpers/storage.js';
import { TokenCipher } from '../../../../src/server/auth/backend/oidc/token-cipher.js';
import { tokensFromData } from '../../../../src/server/auth/backend/oidc/tokens.js';
import { FusionClient } from '../../../../src/client/client.js';
import { FusionAuthAPIClient } from '../../../../src/client/api/auth.js';
import { rawLogin, silenceAudit } from '../harness.js';
import { authorizeInBrowser } from './browser.js';
import { CLIENT_ID, CLIENT_SECRET, PUBLIC_CLIENT_ID, REDIRECT_URI, TestProvider, USERS } from './provider.js';
import type { OidcServer } from './setup.js';
import { TestClock, loginThroughProvider, oidcBackend, oidcSection, providerClient, sessionCount, startOidcServer } from './setup.js';

describe('OIDC authorization-code flow (real oidc-provider)', () => {
  silenceAudit();
  let provider: TestProvider;
  let storage: KnexStorage;
  let clock: TestClock;
  let fusion: OidcServer;
  let asClient: oidc.Configuration; // the test acting as the confidential client, to inspect tokens at the provider
  const tokenKey = randomBytes(32);
  const cipher = new TokenCipher([tokenKey]);

  beforeAll(async () => {
    provider = await TestProvider.start();
    storage = await freshStorage('pglite');
    clock = new TestClock();
    const section = oidcSection(provider.issuer, { token_keys: [tokenKey.toString('base64')] });
    fusion = await startOidcServer({ storage, auth: {}, backend: oidcBackend(section, clock, 'keycloak') });
    asClient = await providerClient(provider.issuer, CLIENT_ID, CLIENT_SECRET);
  }, 60_000);

  afterAll(async () => {
    await fusion?.stop();
    await storage?.close();
    await provider?.stop();
  });

  const dataOf = async (token: string) => (await storage.retrieveSession(token))?.data as Record<string, unknown>;
  /** The session's tokens, decrypted with the test's key, in the clear-text row form. */
  const tokensOf = async (token: string): Promise<Record<string, unknown>> => {
    const read = tokensFromData(await dataOf(token), cipher);
    if (read.tokens === null) throw new Error(read.problem);
    const { sub, accessToken, refreshToken, expiresAt } = read.tokens;
    return { sub, access_token: accessToken, refresh_token: refreshToken, expires_at: expiresAt };
  };
  /** Every row of the sessions table, as text. */
  const rawRows = async (): Promise<string> => JSON.stringify(await storage.knex('fusion_session').select('*'));

  it('describes the provider on GET /api/auth/config, for a front end to start the flow', async () => {
    const answer = await fusion.call('GET', '/api/auth/config');
    expect(answer.body.data).toEqual({
      type: 'keycloak',
      parameters: { host: provider.issuer, realm: null, client: CLIENT_ID, redirect_uri: REDIRECT_URI, issuer: provider.issuer },
    });
  });

  it('logs in with the code: identity from the claims (group paths without the leading /), tokens in the session row', async () => {
    const refreshes = provider.refreshes;
    const login = await loginThroughProvider(fusion, provider.issuer);
    expect(login.status).toBe(200);
    expect(login.body.data).toEqual({ username: 'alice', groups: ['soc', 'soc/tier1'] });
    expect(login.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const isLogged = await fusion.call('GET', '/api/auth/is_logged', { session: login.token! });
    expect(isLogged.body.data).toEqual({ username: 'alice', groups: ['soc', 'soc/tier1'] });
    expect(await tokensOf(login.token!)).toEqual({
      sub: 'alice',
      access_token: expect.any(String),
      refresh_token: expect.any(String),
      expires_at: expect.any(Number),
    });
    expect((await storage.enumerateIdentities()).map((i) => i.username)).toContain('alice');
    expect(provider.refreshes).toBe(refreshes); // a fresh access token is not refreshed
  });

  it('keeps the tokens encrypted in the session row: no token text in storage', async () => {
    const login = await loginThroughProvider(fusion, provider.issuer);
    expect(Object.keys(await dataOf(login.token!)).sort()).toEqual(['expires_at', 'sealed', 'sub']);
    const { access_token: accessToken, refresh_token: refreshToken } = await tokensOf(login.token!);
    const rows = await rawRows();
    for (const token of [accessToken as string, refreshToken as string]) {
      expect(token.length).toBeGreaterThan(20);
      expect(rows).not.toContain(token);
      expect(rows).not.toContain(token.slice(0, 16));
      expect(rows).not.toContain(token.slice(-16));
    }
  });

  it('reads a clear-text row of an earlier version once and rewrites it sealed', async () => {
    const login = await loginThroughProvider(fusion, provider.issuer);
    const clear = await tokensOf(login.token!);
    await storage.updateSession(login.token!, { data: clear });
    expect(await rawRows()).toContain(clear.access_token as string);
    const answer = await fusion.call('GET', '/api/auth/is_logged', { session: login.token! });
    expect(answer.body.data).toEqual({ username: 'alice', groups: ['soc', 'soc/tier1'] });
    expect(Object.keys(await dataOf(login.token!)).sort()).toEqual(['expires_at', 'sealed', 'sub']);
    expect(await tokensOf(login.token!)).toEqual(clear);
    const rows = await rawRows();
    expect(rows).not.toContain(clear.access_token as string);
    expect(rows).not.toContain(clear.refresh_token as string);
  });

  it('rotates keys: a new first key reads rows sealed with an old one and reseals them; without the old key the session ends', async () => {
    const login = await loginThroughProvider(fusion, provider.issuer);
    const before = await dataOf(login.token!);
    const newKey = randomBytes(32);
    const rotated = await startOidcServer({
      storage,
      auth: {},
      backend: oidcBackend(oidcSection(provider.issuer, { token_keys: [newKey.toString('base64'), tokenKey.toString('base64')] }), clock),
    });
    const stranger = await startOidcServer({
      storage,
      auth: {},
      backend: oidcBackend(oidcSection(provider.issuer, { token_keys: [randomBytes(32).toString('base64')] }), clock),
    });
    try {
      expect((await rotated.call('GET', '/api/auth/is_logged', { session: login.token! })).status).toBe(200);
      const after = await dataOf(login.token!);
      expect(after.sealed).not.toBe(before.sealed);
      expect(tokensFromData(after, new TokenCipher([newKey])).tokens).toMatchObject({ sub: 'alice', accessToken: expect.any(String) });
      expect(tokensFromData(after, cipher).tokens).toBeNull(); // resealed with the new key only
      const refused = await stranger.call('GET', '/api/auth/is_logged', { session: login.token! });
      expect(refused.status).toBe(401);
      expect(refused.body.message).toMatch(/cannot be decrypted with any configured token key/);
    } finally {
      await rotated.stop();
      await stranger.stop();
    }
  });

  it('refuses a bad, replayed or PKCE-less code with 401 and a clear message, and changes nothing', async () => {
    const before = await sessionCount(storage);
    const bogus = await rawLogin(fusion.baseUrl, { code: 'not-a-code-the-provider-issued' });
    expect(bogus.status).toBe(401);
    expect(bogus.body).toMatchObject({ code: 'FUSION_ERR_LOGIN_FAILED' });
    expect(bogus.body.message).toMatch(/refused the authorization code \(invalid_grant.*start the login again/);
    expect(bogus.token).toBeNull();

    const first = await loginThroughProvider(fusion, provider.issuer, { username: 'bob' });
    expect(first.status).toBe(200);
    const replay = await rawLogin(fusion.baseUrl, { code: first.code });
    expect(replay.status).toBe(401);
    expect(replay.body.message).toMatch(/invalid_grant/);

    const noVerifier = await loginThroughProvider(fusion, provider.issuer, { pkce: true, sendVerifier: false });
    expect(noVerifier.status).toBe(401);
    const wrongVerifier = await loginThroughProvider(fusion, provider.issuer, { pkce: true, sendVerifier: false, data: { code_verifier: 'x'.repeat(43) } });
    expect(wrongVerifier.status).toBe(401);
    expect(wrongVerifier.body.message).toMatch(/invalid_grant/);

    expect(await sessionCount(storage)).toBe(before + 1); // only bob's good login
  });

  it('counts refused codes against the login rate limits (malformed data is not counted)', async () => {
    const own = await freshStorage('pglite'); // rate-limit counters of its own
    const limited = await startOidcServer({ storage: own, auth: { rate_limit: { max_per_client: 2 } }, backend: oidcBackend(oidcSection(provider.issuer), clock) });
    try {
      expect((await rawLogin(limited.baseUrl, { code: 42 })).status).toBe(400);
      expect((await rawLogin(limited.baseUrl, { code: 'bogus-1' })).status).toBe(401);
      expect((await rawLogin(limited.baseUrl, { code: 'bogus-2' })).status).toBe(401);
      expect((await rawLogin(limited.baseUrl, { code: 'bogus-3' })).body).toMatchObject({ status: 429, code: 'FUSION_ERR_RATE_LIMITED' });
    } finally {
      await limited.stop();
      await own.close();
    }
  });

  it('answers 400 for malformed login data, before anything reaches the provider', async () => {
    expect((await rawLogin(fusion.baseUrl, {})).body).toMatchObject({ status: 400, message: expect.stringMatching(/^data\.code:/) });
    expect((await rawLogin(fusion.baseUrl, { code: 42 })).status).toBe(400);
    expect((await rawLogin(fusion.baseUrl, { code: 'c', code_verifier: 'too-short' })).body.message).toMatch(/^data\.code_verifier:/);
    expect((await rawLogin(fusion.baseUrl, { code: 'c', nonce: '' })).body.message).toMatch(/^data\.nonce:/);
  });

  it('refreshes an expired access token when the session is used, once, and re-reads the groups', async () => {
    const login = await loginThroughProvider(fusion, provider.issuer);
    const before = await tokensOf(login.token!);
    const refreshes = provider.refreshes;
    const alice = USERS.find((u) => u.username === 'alice')!;
    alice.groups.push('/cert');
    try {
      clock.advance(3601);
      const answers = await Promise.all(Array.from({ length: 5 }, () => fusion.call('GET', '/api/auth/is_logged', { session: login.token! })));
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
      expect(provider.refreshes).toBe(refreshes + 1);
      const after = await tokensOf(login.token!);
      expect(after.access_token).not.toBe(before.access_token);
      expect(after.expires_at as number).toBeGreaterThan(before.expires_at as number);
      const again = await fusion.call('GET', '/api/auth/is_logged', { session: login.token! });
      expect(again.body.data).toEqual({ username: 'alice', groups: ['cert', 'soc', 'soc/tier1'] });
      expect(provider.refreshes).toBe(refreshes + 1);
    } finally {
      alice.groups.pop();
    }
  });

  it('ends the session with 401 when the provider refuses the refresh (refresh token revoked)', async () => {
    const login = await loginThroughProvider(fusion, provider.issuer);
    const { refresh_token: refreshToken } = await tokensOf(login.token!);
    await oidc.tokenRevocation(asClient, refreshToken as string, { token_type_hint: 'refresh_token' });
    clock.advance(3601);
    const refused = await fusion.call('GET', '/api/auth/is_logged', { session: login.token! });
    expect(refused.status).toBe(401);
    expect(refused.body.message).toMatch(/^the identity provider refused to refresh the session \(invalid_grant.*\): log in again$/);
    expect(String(refused.headers['set-cookie'])).toMatch(/^FUSION_SESSION=;/);
    expect(await storage.retrieveSession(login.token!)).toBeNull();
    expect((await fusion.call('GET', '/api/auth/is_logged', { session: login.token! })).body.message).toMatch(/^no valid session/);
  });

  it('revokes the tokens at the provider on logout', async () => {
    const login = await loginThroughProvider(fusion, provider.issuer);
    const { refresh_token: refreshToken, access_token: accessToken } = await tokensOf(login.token!);
    expect((await oidc.tokenIntrospection(asClient, refreshToken as string)).active).toBe(true);
    expect((await fusion.call('GET', '/api/auth/logout', { session: login.token! })).status).toBe(200);
    expect((await oidc.tokenIntrospection(asClient, refreshToken as string)).active).toBe(false);
    expect((await oidc.tokenIntrospection(asClient, accessToken as string)).active).toBe(false);
    expect((await fusion.call('GET', '/api/auth/is_logged', { session: login.token! })).status).toBe(401);
  });

  it('logs a public client in with PKCE, and refuses it without the verifier when require_pkce is set', async () => {
    const section = oidcSection(provider.issuer, { client_id: PUBLIC_CLIENT_ID, client_secret: null, require_pkce: true });
    const spa = await startOidcServer({ storage, auth: {}, backend: oidcBackend(section, clock) });
    try {
      const missing = await rawLogin(spa.baseUrl, { code: 'some-code' });
      expect(missing.body).toMatchObject({ status: 400, message: expect.stringMatching(/^data\.code_verifier: is required/) });
      const { code, codeVerifier } = await authorizeInBrowser({
        issuer: provider.issuer,
        clientId: PUBLIC_CLIENT_ID,
        redirectUri: REDIRECT_URI,
        username: 'bob',
        password: 'bob-password',
      });
      const client = new FusionClient({ baseUrl: spa.baseUrl });
      try {
        const auth = new FusionAuthAPIClient({ client });
        expect((await auth.login({ code, code_verifier: codeVerifier })).toJSON()).toEqual({ username: 'bob', groups: [] });
        expect((await auth.isLogged())?.username).toBe('bob');
      } finally {
        await client.close();
      }
      expect((await spa.call('GET', '/api/auth/config')).body.data).toMatchObject({ type: 'oidc', parameters: { client: PUBLIC_CLIENT_ID } });
    } finally {
      await spa.stop();
    }
  });
});
