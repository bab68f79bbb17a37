/** `auth.backend.oidc` / `auth.backend.keycloak`: edf_fusion's Keycloak keys, a plain issuer, and every refusal naming its key. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ConfigReader } from '../../../../src/helper/config.js';
import { OidcAuthBackend } from '../../../../src/server/auth/backend/oidc.js';
import { authBackendStrategies, createAuthBackend } from '../../../../src/server/auth/backend/registry.js';
import { parseAuthConfig } from '../../../../src/server/auth/config.js';
import type { OidcAuthOptions } from '../../../../src/server/auth/backend/oidc.js';

function parse(strategy: string, section: Record<string, unknown>, env: Record<string, string> = {}) {
  const root = new ConfigReader({ auth: { backend: { strategy, [strategy]: section } } }, { env });
  const config = parseAuthConfig(root.section('auth'));
  root.assertNoUnknownKeys();
  return config.backend;
}

const options = (strategy: string, section: Record<string, unknown>, env?: Record<string, string>) => parse(strategy, section, env).options as OidcAuthOptions;

const EDF_FUSION = {
  url: 'https://sso.example.org/',
  realm_name: 'cert',
  client_id: 'fusion',
  client_secret: { env: 'KEYCLOAK_SECRET' },
  redirect_uri: 'https://fusion.example.org/login/callback',
  include_auth: false,
  verify: true,
};

describe('OIDC backend config', () => {
  it('registers the oidc strategy and its keycloak alias', () => {
    expect(authBackendStrategies()).toEqual(expect.arrayContaining(['basic', 'keycloak', 'oidc']));
  });

  it("reads edf_fusion's Keycloak keys and describes them on GET /api/auth/config", async () => {
    const config = parse('keycloak', EDF_FUSION, { KEYCLOAK_SECRET: 's3cret' });
    const parsed = config.options as OidcAuthOptions;
    expect(parsed).toMatchObject({
      flavor: 'keycloak',
      issuer: 'https://sso.example.org/realms/cert',
      host: 'https://sso.example.org',
      realm: 'cert',
      clientId: 'fusion',
      clientSecret: 's3cret',
      clientAuthMethod: 'client_secret_basic',
      audience: ['fusion'],
      usernameClaim: 'preferred_username',
      groupsClaim: 'groups',
      clockTolerance: 30,
      bearerTokens: true,
      introspection: false,
      tls: { rejectUnauthorized: true },
    });
    // The OIDC modules are imported on creation: a promise of the backend.
    const created = createAuthBackend(config);
    expect(created).toBeInstanceOf(Promise);
    const backend = (await created) as OidcAuthBackend;
    expect(backend).toBeInstanceOf(OidcAuthBackend);
    expect(backend.strategy).toBe('keycloak');
    expect((await backend.info()).toJSON()).toEqual({
      type: 'keycloak',
      parameters: {
        host: 'https://sso.example.org',
        realm: 'cert',
        client: 'fusion',
        redirect_uri: 'https://fusion.example.org/login/callback',
        issuer: 'https://sso.example.org/realms/cert',
      },
    });
  });

  it('adds /auth for Keycloak before 17 (include_auth) and encodes the realm', () => {
    const parsed = options('keycloak', { ...EDF_FUSION, client_secret: 'x', include_auth: true, realm_name: 'my realm' });
    expect(parsed.issuer).toBe('https://sso.example.org/auth/realms/my%20realm');
    expect(parsed.host).toBe('https://sso.example.org/auth');
  });

  it('takes a plain issuer; a public client without a secret; bearer-only without redirect_uri', () => {
    const parsed = options('oidc', { issuer: 'https://login.example.com/tenant', client_id: 'spa', audience: 'api://fusion' });
    expect(parsed).toMatchObject({
      flavor: 'oidc',
      issuer: 'https://login.example.com/tenant',
      host: 'https://login.example.com/tenant',
      realm: null,
      clientSecret: null,
      clientAuthMethod: 'none',
      redirectUri: null,
      audience: ['api://fusion'],
    });
  });

  it('reads verify: false and CA files', async () => {
    expect(options('oidc', { issuer: 'https://idp.example', client_id: 'c', verify: false }).tls).toEqual({ rejectUnauthorized: false });
    const dir = await mkdtemp(join(tmpdir(), 'fusion-oidc-'));
    try {
      const ca = join(dir, 'ca.pem');
      await writeFile(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
      expect(options('oidc', { issuer: 'https://idp.example', client_id: 'c', verify: ca }).tls.ca).toHaveLength(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it.each([
    [{ issuer: 'https://a.example', url: 'https://b.example', client_id: 'c' }, 'auth.backend.oidc.issuer: give either issuer, or url and realm_name (Keycloak), not both'],
    [{ client_id: 'c' }, 'auth.backend.oidc.issuer: is required (or url and realm_name for Keycloak)'],
    [{ url: 'https://sso.example', client_id: 'c' }, 'auth.backend.oidc.realm_name: is required'],
    [{ issuer: 'http://idp.example', client_id: 'c' }, 'auth.backend.oidc.issuer: uses http://'],
    [{ issuer: 'idp.example', client_id: 'c' }, 'auth.backend.oidc.issuer: expected an absolute http(s) URL'],
    [{ issuer: 'https://idp.example' }, 'auth.backend.oidc.client_id: is required'],
    [{ issuer: 'https://idp.example', client_id: 'c', redirect_uri: 'https://app.example/cb?x=1' }, 'auth.backend.oidc.redirect_uri: must not hold a query'],
    [{ issuer: 'https://idp.example', client_id: 'c', client_secret: { env: 'NOPE' } }, 'auth.backend.oidc.client_secret: environment variable NOPE is not set'],
    [{ issuer: 'https://idp.example', client_id: 'c', client_auth_method: 'client_secret_post' }, 'auth.backend.oidc.client_secret: is required with client_auth_method'],
    [{ issuer: 'https://idp.example', client_id: 'c', introspection: true }, 'auth.backend.oidc.introspection: needs client_secret'],
    [{ issuer: 'https://idp.example', client_id: 'c', verify: `sha256:${'AB:'.repeat(31)}AB` }, 'auth.backend.oidc.verify: certificate pinning'],
    [{ issuer: 'https://idp.example', client_id: 'c', clock_tolerance: 3600 }, 'auth.backend.oidc.clock_tolerance: expected a number between 0 and 300'],
    [{ issuer: 'https://idp.example', client_id: 'c', audience: [42] }, 'auth.backend.oidc.audience[0]: expected a non-empty string'],
    [{ issuer: 'https://idp.example', client_id: 'c', relm_name: 'x' }, 'auth.backend.oidc.relm_name: unknown key, did you mean `realm_name`?'],
  ])('refuses %j', (section, message) => {
    expect(() => parse('oidc', section)).toThrow(message);
  });

  it('keeps the client secret out of error messages', () => {
    expect(() => parse('oidc', { issuer: 'https://idp.example', client_id: 'c', client_secret: ['hunter2'] })).toThrow(/client_secret: expected a non-empty string, got a list \(hidden\)/);
  });

  describe('token_keys', () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    const section = { issuer: 'https://sso.example.org/realms/cert', client_id: 'fusion', client_secret: 's3cret' };

    it('reads a list of keys, or one, each possibly from the environment', () => {
      expect(options('oidc', { ...section, token_keys: [key, { env: 'OLD_KEY' }] }, { OLD_KEY: Buffer.alloc(32, 8).toString('base64url') }).tokenKeys).toEqual([
        Buffer.alloc(32, 7),
        Buffer.alloc(32, 8),
      ]);
      expect(options('oidc', { ...section, token_keys: { env: 'KEY' } }, { KEY: key }).tokenKeys).toEqual([Buffer.alloc(32, 7)]);
    });

    it('refuses a malformed key, without showing it', () => {
      expect(() => options('oidc', { ...section, token_keys: ['c2hvcnQ='] })).toThrow(/auth\.backend\.oidc\.token_keys\[0\]: expected 32 random bytes/);
      expect(() => options('oidc', { ...section, token_keys: [{ env: 'KEY' }] }, { KEY: 'too-short-secret' })).toThrow(
        expect.objectContaining({ code: 'FUSION_ERR_CONFIG', message: expect.not.stringContaining('too-short-secret') }),
      );
    });

    it('refuses to start without a key outside tests (FUSION_ERR_CONFIG)', () => {
      const saved = process.env.NODE_ENV;
      process.env.NODE_ENV = 'production';
      try {
        expect(() => options('keycloak', EDF_FUSION, { KEYCLOAK_SECRET: 's3cret' })).toThrow(
          expect.objectContaining({ code: 'FUSION_ERR_CONFIG', message: expect.stringMatching(/^auth\.backend\.keycloak\.token_keys: is required/) }),
        );
      } finally {
        process.env.NODE_ENV = saved;
      }
      expect(options('keycloak', EDF_FUSION, { KEYCLOAK_SECRET: 's3cret' }).tokenKeys).toHaveLength(1); // under jest: a key of the process
    });
  });
});
