import { describe, expect, it } from '@jest/globals';
import { ConfigReader } from '../../../src/helper/config.js';
import { parseAuthConfig } from '../../../src/server/auth/config.js';

const DIGEST = '$argon2id$v=19$m=65536,t=3,p=4$20W54XzvJwLt5nS5XzE5Iw$1LX+eQRy+QtlmdMb62xrvu72dDZ0JaG6QnCqLsFGZ1Y';
const KEY = 'a-key-of-at-least-sixteen-chars';

function parse(auth: unknown, env: Record<string, string> = {}) {
  const root = new ConfigReader({ auth }, { env });
  const config = parseAuthConfig(root.section('auth'));
  root.assertNoUnknownKeys();
  return config;
}

describe('parseAuthConfig', () => {
  it('gives secure defaults', () => {
    const config = parse({});
    expect(config.backend).toEqual({ strategy: 'basic', options: { users: [] } });
    expect(config.clients).toEqual([]);
    expect(config.canDeleteAcs).toEqual([]);
    expect(config.cookie).toEqual({
      name: 'FUSION_SESSION',
      domain: null,
      path: '/',
      maxAge: 43200,
      secure: true,
      httpOnly: true,
      sameSite: 'lax',
    });
    expect(config.rateLimit).toEqual({ window: 300, maxPerClient: 20, maxPerUsername: 10, maxPerUsernameGlobal: 200, backoffAfter: 3, backoffBase: 1, backoffMax: 900 });
  });

  it('reads an edf_fusion style section', () => {
    const config = parse({
      backend: { strategy: 'basic', basic: { users: [{ username: 'jdoe', digest: DIGEST, groups: ['analysts'] }] } },
      clients: [{ name: 'collector', key: KEY }],
      can_delete_acs: ['admins', 'admins', 'cert'],
      iron_key: 'edf_fusion-iron-key-of-at-least-32-characters',
      cookie: { name: 'SID', domain: 'example.org', path: '/api', max_age: 600, secure: false, httponly: true, samesite: 'Strict', secret_key: 'ignored' },
      rate_limit: { window: 60, max_per_client: 5, max_per_username: 0, backoff_base: 0 },
    });
    expect(config.backend.options).toEqual({ users: [{ username: 'jdoe', digest: DIGEST, groups: ['analysts'] }] });
    expect(config.clients).toEqual([{ name: 'collector', key: KEY }]);
    expect(config.canDeleteAcs).toEqual(['admins', 'cert']);
    expect(config.cookie).toMatchObject({ name: 'SID', domain: 'example.org', path: '/api', maxAge: 600, secure: false, sameSite: 'strict' });
    expect(config.rateLimit).toEqual({ window: 60, maxPerClient: 5, maxPerUsername: 0, maxPerUsernameGlobal: 200, backoffAfter: 3, backoffBase: 0, backoffMax: 900 });
  });

  it('accepts edf_fusion iron_key as a secret (from the environment too), never echoing it', () => {
    expect(() => parse({ iron_key: { env: 'IRON' } }, { IRON: 'x'.repeat(32) })).not.toThrow();
    expect(() => parse({ iron_key: 12345 })).toThrow(/auth\.iron_key: .*\(hidden\)/);
  });

  it('takes client keys from the environment', () => {
    const config = parse({ clients: [{ name: 'collector', key: { env: 'COLLECTOR_KEY' } }] }, { COLLECTOR_KEY: KEY });
    expect(config.clients[0]!.key).toBe(KEY);
    expect(() => parse({ clients: [{ name: 'c', key: { env: 'MISSING' } }] })).toThrow('auth.clients[0].key: environment variable MISSING is not set');
  });

  it('reports unknown keys with a suggestion', () => {
    expect(() => parse({ cokie: {} })).toThrow(/auth\.cokie: unknown key, did you mean `cookie`/);
    expect(() => parse({ cookie: { max_ag: 3 } })).toThrow(/auth\.cookie\.max_ag: unknown key/);
    expect(() => parse({ backend: { basic: { users: [{ username: 'u', digest: DIGEST, group: [] }] } } })).toThrow(
      /auth\.backend\.basic\.users\[0\]\.group: unknown key/,
    );
  });

  it('names the bad key, without echoing secrets', () => {
    expect(() => parse({ backend: { strategy: 'ldap' } })).toThrow(/auth\.backend\.strategy: unknown strategy "ldap"; registered: "basic"/);
    expect(() => parse({ clients: [{ name: 'c', key: 'short-secret' }] })).toThrow(/auth\.clients\[0\]\.key: must be at least 16 characters/);
    expect(() => parse({ clients: [{ name: 'c', key: 'short-secret' }] })).not.toThrow(/short-secret/);
    expect(() => parse({ clients: [{ name: 'c', key: KEY }, { name: 'c', key: `${KEY}2` }] })).toThrow('auth.clients[1].name');
    expect(() => parse({ clients: [{ name: 'a', key: KEY }, { name: 'b', key: KEY }] })).toThrow('auth.clients[1].key');
    expect(() => parse({ cookie: { samesite: 'none', secure: false } })).toThrow('auth.cookie.samesite');
    expect(() => parse({ cookie: { samesite: 'sometimes' } })).toThrow('auth.cookie.samesite');
    expect(() => parse({ cookie: { name: 'bad name' } })).toThrow('auth.cookie.name');
    expect(() => parse({ cookie: { path: 'api' } })).toThrow('auth.cookie.path');
    expect(() => parse({ cookie: { max_age: 0 } })).toThrow('auth.cookie.max_age');
    expect(() => parse({ rate_limit: { max_per_client: -1 } })).toThrow('auth.rate_limit.max_per_client');
    expect(() => parse({ rate_limit: { backoff_base: 10, backoff_max: 5 } })).toThrow('auth.rate_limit.backoff_max');
    expect(() => parse({ can_delete_acs: 'admins' })).toThrow('auth.can_delete_acs');
  });
});
