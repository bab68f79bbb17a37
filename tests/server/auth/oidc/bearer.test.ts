/** Bearer tokens: JWTs checked against the real provider's key set, opaque tokens by introspection. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { SignJWT, decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import type { KnexStorage } from '../../../../src/server/storage/knex-storage.js';
import { freshStorage } from '../../../helpers/storage.js';
import { raw, rawLogin, silenceAudit } from '../harness.js';
import { authorizeInBrowser } from './browser.js';
import {
  API_RESOURCE,
  CLIENT_ID,
  CLIENT_SECRET,
  REDIRECT_URI,
  SERVICE_CLIENT_ID,
  SERVICE_CLIENT_SECRET,
  TestProvider,
  newSigningKey,
} from './provider.js';
import type { OidcServer } from './setup.js';
import { API_KEY, TestClock, epoch, loginThroughProvider, oidcBackend, oidcSection, providerClient, sessionCount, signToken, startOidcServer } from './setup.js';

describe('OIDC bearer tokens (real oidc-provider)', () => {
  silenceAudit();
  let provider: TestProvider;
  let storage: KnexStorage;
  const clock = new TestClock();
  let fusion: OidcServer;
  let service: oidc.Configuration;
  let confidential: oidc.Configuration;

  beforeAll(async () => {
    provider = await TestProvider.start();
    storage = await freshStorage('pglite');
    fusion = await startOidcServer({ storage, auth: {}, backend: oidcBackend(oidcSection(provider.issuer), clock) });
    service = await providerClient(provider.issuer, SERVICE_CLIENT_ID, SERVICE_CLIENT_SECRET);
    confidential = await providerClient(provider.issuer, CLIENT_ID, CLIENT_SECRET);
  }, 60_000);

  afterEach(() => {
    clock.offset = 0;
  });

  afterAll(async () => {
    await fusion?.stop();
    await storage?.close();
    await provider?.stop();
  });

  const serviceToken = async (): Promise<string> => (await oidc.clientCredentialsGrant(service, { resource: API_RESOURCE, scope: 'api' })).access_token;
  const isLogged = (bearer: string) => fusion.call('GET', '/api/auth/is_logged', { bearer });
  /** Claims of a valid access token for this service, to vary one at a time. */
  const claims = (extra: Record<string, unknown> = {}) => ({
    iss: provider.issuer,
    aud: CLIENT_ID,
    sub: 'carol',
    preferred_username: 'carol',
    groups: ['/soc'],
    scope: 'api',
    iat: epoch(),
    exp: epoch() + 300,
    ...extra,
  });
  /** Tokens a user gets from the code flow at the confidential client (opaque access token, ID token, refresh token). */
  const userTokens = async (username: string) => {
    const result = await authorizeInBrowser({ issuer: provider.issuer, clientId: CLIENT_ID, redirectUri: REDIRECT_URI, username, password: `${username}-password`, pkce: false });
    const callback = new URL(`${REDIRECT_URI}?code=${result.code}&iss=${encodeURIComponent(result.iss!)}&state=${result.state}`);
    return oidc.authorizationCodeGrant(confidential, callback, { expectedState: result.state! });
  };

  it('accepts a provider-issued JWT access token: identity from its claims, no session, not managed', async () => {
    const sessions = await sessionCount(storage);
    const token = await serviceToken();
    const answer = await isLogged(token);
    expect(answer.status).toBe(200);
    expect(answer.body.data).toEqual({ username: 'service-account-collector', groups: ['services'] });
    expect(answer.headers['set-cookie']).toBeUndefined();
    expect((await fusion.call('GET', '/api/probe/op', { bearer: token })).body.data).toEqual({ username: 'service-account-collector', managed: false });
    expect(await sessionCount(storage)).toBe(sessions);
  });

  it('refuses an expired token, tolerating the configured clock skew (30 s)', async () => {
    const token = await serviceToken();
    const { exp } = decodeJwt(token);
    clock.offset = (exp! + 20) * 1000 - Date.now(); // 20 s past expiry: within tolerance
    expect((await isLogged(token)).status).toBe(200);
    clock.offset = (exp! + 40) * 1000 - Date.now();
    const expired = await isLogged(token);
    expect(expired.body).toMatchObject({ status: 401, code: 'FUSION_ERR_UNAUTHORIZED' });
    expect(expired.body.message).toMatch(/^the bearer token expired at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00 \(clock tolerance 30 s\)/);
  });

  it('tolerates a token from a provider clock slightly ahead (nbf/iat), not far ahead', async () => {
    const key = provider.signingKey;
    expect((await isLogged(await signToken(key, claims({ nbf: epoch() + 20, iat: epoch() + 20 })))).status).toBe(200);
    const early = await isLogged(await signToken(key, claims({ nbf: epoch() + 90, iat: epoch() + 90 })));
    expect(early.status).toBe(401);
    expect(early.body.message).toMatch(/^the bearer token is not valid before /);
  });

  it('refuses a wrong audience, a wrong issuer and a missing expiry, naming what was wrong', async () => {
    const key = provider.signingKey;
    const audience = await isLogged(await signToken(key, claims({ aud: 'another-api' })));
    expect(audience.body).toMatchObject({ status: 401, message: `the bearer token's audience "another-api" does not include "fusion" (auth.backend.oidc.audience)` });
    const issuer = await isLogged(await signToken(key, claims({ iss: 'https://evil.example' })));
    expect(issuer.body).toMatchObject({ status: 401, message: `the bearer token was issued by "https://evil.example", not by ${provider.issuer}` });
    const noExp = await isLogged(await signToken(key, claims({ exp: undefined })));
    expect(noExp.body).toMatchObject({ status: 401, message: 'the bearer token has no valid exp (expiry) claim' });
  });

  it('refuses a tampered token, a foreign key, a symmetric algorithm and malformed tokens', async () => {
    const [header, payload, signature] = (await serviceToken()).split('.');
    const forged = Buffer.from(JSON.stringify({ ...decodeJwt(`${header}.${payload}.${signature}`), preferred_username: 'admin' })).toString('base64url');
    expect((await isLogged(`${header}.${forged}.${signature}`)).body.message).toBe('the bearer token signature is not valid');

    const foreign = await isLogged(await signToken(await newSigningKey(), claims()));
    expect(foreign.body.message).toMatch(/^the bearer token is signed with a key the identity provider does not publish/);

    const hs256 = await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' }).sign(new TextEncoder().encode('a-shared-secret-0123456789abcdef'));
    expect((await isLogged(hs256)).body.message).toMatch(/^the bearer token's signature algorithm is not accepted/);

    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${payload}.`;
    expect((await isLogged(unsigned)).body.message).toMatch(/^the bearer token is not a signed JWT/);
    expect((await isLogged('not a token')).body.message).toBe('the bearer token holds characters a token cannot hold');
    expect((await isLogged('a.b.c')).body.message).toBe('the bearer token is malformed: expected a signed JWT');
    expect((await fusion.call('GET', '/api/auth/is_logged', { bearer: '' })).body.message).toMatch(/needs a token/);
  });

  it('follows a key rotation: a token signed with a new key (unknown kid) makes it fetch the key set again', async () => {
    const before = await serviceToken();
    expect((await isLogged(before)).status).toBe(200); // the key set is cached now
    const key = await provider.rotateKeys();
    const after = await serviceToken();
    expect(JSON.parse(Buffer.from(after.split('.')[0]!, 'base64url').toString()).kid).toBe(key.kid);
    expect((await isLogged(after)).status).toBe(200);
    expect((await isLogged(before)).status).toBe(200); // the old key is still published
  });

  it('refuses ID tokens and other non-access tokens sent as bearer tokens', async () => {
    const tokens = await userTokens('alice');
    const idToken = await isLogged(tokens.id_token!);
    expect(idToken.body.message).toMatch(/^the bearer token is not recognisably an access token/);
    const keycloakIdToken = await isLogged(await signToken(provider.signingKey, claims({ typ: 'ID' }), { typ: 'JWT' }));
    expect(keycloakIdToken.body.message).toBe('the bearer token is not an access token (typ "ID"): send the access token');
    const noUsername = await isLogged(await signToken(provider.signingKey, claims({ preferred_username: undefined })));
    expect(noUsername.body.message).toBe('the bearer token has no usable preferred_username claim (auth.backend.oidc.username_claim)');
  });

  it('takes the API key first, checks a bearer token before the cookie, and ignores other schemes', async () => {
    const login = await loginThroughProvider(fusion, provider.issuer);
    expect(login.status).toBe(200);
    const badBearerWithCookie = await fusion.call('GET', '/api/auth/is_logged', { session: login.token!, bearer: 'a.b.c' });
    expect(badBearerWithCookie.status).toBe(401);
    const apiKeyFirst = await fusion.call('GET', '/api/probe/op', { apiKey: API_KEY, bearer: 'a.b.c' });
    expect(apiKeyFirst.body.data).toEqual({ username: 'collector', managed: true });
    const basic = await fusion.call('GET', '/api/auth/is_logged', { session: login.token! });
    expect(basic.status).toBe(200);
    const otherScheme = await raw(fusion.baseUrl, 'GET', '/api/auth/is_logged', { headers: { authorization: 'Basic YWxpY2U6cHc=' } });
    expect(otherScheme.body).toMatchObject({ status: 401, message: expect.stringMatching(/^no valid session/) });
  });

  it('refuses opaque tokens without introspection; with it, accepts active access tokens only', async () => {
    const tokens = await userTokens('alice');
    expect((await isLogged(tokens.access_token)).body.message).toBe(
      'the bearer token is not a signed JWT; opaque tokens need auth.backend.oidc.introspection: true',
    );
    const section = oidcSection(provider.issuer, { introspection: true, audience: [CLIENT_ID] });
    const introspecting = await startOidcServer({ storage, auth: {}, backend: oidcBackend(section, clock) });
    try {
      const call = (bearer: string) => introspecting.call('GET', '/api/auth/is_logged', { bearer });
      expect((await call(tokens.access_token)).body.data).toEqual({ username: 'alice', groups: ['soc', 'soc/tier1'] });
      expect((await call(tokens.refresh_token!)).body.message).toBe('the bearer token is not an access token: send the access token');
      await oidc.tokenRevocation(confidential, tokens.access_token, { token_type_hint: 'access_token' });
      expect((await call(tokens.access_token)).body.message).toBe('the bearer token is not active (expired, revoked or unknown to the identity provider)');
      expect((await call('opaque-token-nobody-issued')).status).toBe(401);
    } finally {
      await introspecting.stop();
    }
  });

  it('ignores bearer tokens when bearer_tokens is false', async () => {
    const off = await startOidcServer({ storage, auth: {}, backend: oidcBackend(oidcSection(provider.issuer, { bearer_tokens: false }), clock) });
    try {
      const answer = await off.call('GET', '/api/auth/is_logged', { bearer: await serviceToken() });
      expect(answer.body).toMatchObject({ status: 401, message: expect.stringMatching(/^no valid session/) });
    } finally {
      await off.stop();
    }
  });

  it('serves bearer tokens only when no redirect_uri is configured: logins get 400', async () => {
    const bearerOnly = await startOidcServer({ storage, auth: {}, backend: oidcBackend(oidcSection(provider.issuer, { redirect_uri: null }), clock) });
    try {
      const login = await rawLogin(bearerOnly.baseUrl, { code: 'a-code' });
      expect(login.body).toMatchObject({ status: 400, message: 'this service takes bearer tokens only: auth.backend.oidc.redirect_uri is not set' });
      expect((await bearerOnly.call('GET', '/api/auth/is_logged', { bearer: await serviceToken() })).status).toBe(200);
    } finally {
      await bearerOnly.stop();
    }
  });

  it('keeps refusals from changing anything: no session, no identity stored', async () => {
    const sessions = await sessionCount(storage);
    const identities = (await storage.enumerateIdentities()).length;
    for (const token of ['a.b.c', await signToken(provider.signingKey, claims({ aud: 'x' })), await signToken(await newSigningKey(), claims())]) {
      const answer = await isLogged(token);
      expect(answer.status).toBe(401);
      expect(answer.headers['set-cookie']).toBeUndefined();
    }
    expect(await sessionCount(storage)).toBe(sessions);
    expect((await storage.enumerateIdentities()).length).toBe(identities);
  });
});
