import { beforeAll, describe, expect, it } from '@jest/globals';
import { Identity } from '../../../../src/concept/index.js';
import { ConfigReader } from '../../../../src/helper/config.js';
import { isFusionError } from '../../../../src/helper/errors.js';
import { AuthSession } from '../../../../src/server/auth/backend/backend.js';
import type { FusionAuthBackend } from '../../../../src/server/auth/backend/backend.js';
import { BasicAuthBackend, hashPassword, parseBasicAuthConfig, parseBasicCredentials } from '../../../../src/server/auth/backend/basic.js';
import type { FastifyRequest } from 'fastify';

const request = {} as FastifyRequest;
const session = (): AuthSession => new AuthSession({}, new Date(Date.now() + 60_000));

describe('BasicAuthBackend', () => {
  let backend: FusionAuthBackend;

  beforeAll(async () => {
    backend = new BasicAuthBackend({
      users: [
        { username: 'alice', digest: await hashPassword('alice-pw'), groups: ['soc', 'admins'] },
        { username: 'bob', digest: await hashPassword('bob-pw'), groups: [] },
      ],
    });
    await backend.start();
  });

  it('answers the edf_fusion AuthInfo', async () => {
    expect((await backend.info()).toJSON()).toEqual({ type: 'basic', parameters: {} });
  });

  it('logs in with the right password and gives the configured groups', async () => {
    const identity = await backend.login({ username: 'alice', password: 'alice-pw' }, request, session());
    expect(identity?.toJSON()).toEqual({ username: 'alice', groups: ['admins', 'soc'] });
  });

  it('gives the same answer for a wrong password and an unknown user', async () => {
    const wrong = await backend.login({ username: 'alice', password: 'bob-pw' }, request, session());
    const unknown = await backend.login({ username: 'mallory', password: 'alice-pw' }, request, session());
    expect(wrong).toBeNull();
    expect(unknown).toBeNull();
  });

  it('refuses malformed credentials with FUSION_ERR_VALIDATION', async () => {
    for (const data of [null, [], 'x', {}, { username: 'alice' }, { username: 42, password: 'x' }, { username: 'alice', password: '' }]) {
      const error = await backend.login(data, request, session()).catch((e: unknown) => e);
      expect(isFusionError(error) && error.code).toBe('FUSION_ERR_VALIDATION');
    }
    expect(() => backend.loginSubject({ username: 'alice', password: 7 })).toThrow(/data.password/);
    expect(backend.loginSubject({ username: 'alice', password: 'x' })).toBe('alice');
  });

  it('re-reads the user on isLogged, and ends sessions of removed users', async () => {
    const stale = new Identity({ username: 'alice', groups: ['old'] });
    expect((await backend.isLogged(stale, session(), request))?.groups).toEqual(['admins', 'soc']);
    expect(await backend.isLogged(new Identity({ username: 'carol' }), session(), request)).toBeNull();
  });
});

describe('parseBasicCredentials', () => {
  it('caps username and password lengths', () => {
    expect(() => parseBasicCredentials({ username: 'u'.repeat(257), password: 'x' })).toThrow(/data.username/);
    expect(() => parseBasicCredentials({ username: 'u', password: 'x'.repeat(1025) })).toThrow(/data.password/);
  });
});

describe('parseBasicAuthConfig', () => {
  const edfDigest = '$argon2id$v=19$m=65536,t=3,p=4$20W54XzvJwLt5nS5XzE5Iw$1LX+eQRy+QtlmdMb62xrvu72dDZ0JaG6QnCqLsFGZ1Y';
  const parse = (data: unknown) => parseBasicAuthConfig(new ConfigReader(data, { key: 'auth.backend.basic', env: { DIGEST: edfDigest } }));

  it('reads users, with digests from the environment', () => {
    const options = parse({ users: [{ username: 'jdoe', digest: { env: 'DIGEST' }, groups: ['b', 'a', 'a'] }] });
    expect(options.users).toEqual([{ username: 'jdoe', digest: edfDigest, groups: ['a', 'b'] }]);
  });

  it('names the bad key', () => {
    expect(() => parse({ users: [{ username: 'jdoe', digest: 'plain' }] })).toThrow('auth.backend.basic.users[0].digest: expected an argon2 digest');
    expect(() => parse({ users: [{ digest: edfDigest }] })).toThrow('auth.backend.basic.users[0].username: is required');
    const twice = { users: [{ username: 'a', digest: edfDigest }, { username: 'a', digest: edfDigest }] };
    expect(() => parse(twice)).toThrow('auth.backend.basic.users[1].username: user "a" is listed twice');
    expect(() => parse({ users: [{ username: 'a', digest: edfDigest, groups: 'soc' }] })).toThrow('users[0].groups');
  });
});
