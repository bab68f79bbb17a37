import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FusionAuthAPIClient } from '../../../src/client/api/auth.js';
import { Identity } from '../../../src/concept/index.js';
import { setAuditSink } from '../../../src/helper/tracing.js';
import type { AuditFields } from '../../../src/helper/tracing.js';
import { hashPassword } from '../../../src/server/auth/backend/basic.js';
import type { KnexStorage } from '../../../src/server/storage/knex-storage.js';
import { freshStorage } from '../../helpers/storage.js';
import type { Running } from './harness.js';
import { raw, rawLogin, startAuthServer } from './harness.js';

const API_KEY = randomBytes(24).toString('base64url');
const SESSION_LINE = /^FUSION_SESSION=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=43200; HttpOnly; Secure; SameSite=Lax$/;

describe('FusionAuthAPI', () => {
  let storage: KnexStorage;
  let running: Running;
  const audit: (AuditFields & { msg: string })[] = [];

  beforeAll(async () => {
    storage = await freshStorage('pglite');
    setAuditSink({
      info: (fields, msg) => audit.push({ ...(fields as AuditFields), msg }),
      warn: (fields, msg) => audit.push({ ...(fields as AuditFields), msg }),
    });
    running = await startAuthServer({
      storage,
      auth: {
        backend: {
          strategy: 'basic',
          basic: {
            users: [
              { username: 'alice', digest: await hashPassword('alice-pw'), groups: ['soc', 'admins'] },
              { username: 'bob', digest: await hashPassword('bob-pw'), groups: ['soc'] },
              { username: 'collector', digest: await hashPassword('collector-pw') },
            ],
          },
        },
        clients: [{ name: 'collector', key: API_KEY }],
        can_delete_acs: ['admins'],
        rate_limit: { max_per_client: 10_000, max_per_username: 10_000 },
      },
    });
  }, 120_000);

  afterAll(async () => {
    setAuditSink(undefined);
    await running?.stop();
    await storage?.close();
  });

  const sessionCount = async (): Promise<number> => Number((await storage.knex('fusion_session').count({ n: '*' }))[0]!.n);
  const apiKeyAuth = (): FusionAuthAPIClient => running.authClient({ apiKey: API_KEY });
  const withCookie = (token: string) => ({ headers: { cookie: `FUSION_SESSION=${token}` } });

  it('answers the backend info on GET config, without authentication', async () => {
    expect((await running.authClient().config()).toJSON()).toEqual({ type: 'basic', parameters: {} });
  });

  it('logs in, knows who is logged, lists identities, logs out', async () => {
    const client = running.client();
    const auth = new FusionAuthAPIClient({ client });
    expect(await auth.isLogged()).toBeNull();
    const identity = await auth.login('alice', 'alice-pw');
    expect(identity).toBeInstanceOf(Identity);
    expect(identity.toJSON()).toEqual({ username: 'alice', groups: ['admins', 'soc'] });
    expect((await auth.isLogged())?.toJSON()).toEqual(identity.toJSON());
    expect((await auth.identities()).map((i) => i.username)).toContain('alice');
    const token = client.sessionCookie!;
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await auth.logout();
    expect(client.sessionCookie).toBeNull();
    expect(await auth.isLogged()).toBeNull();
    const replay = await raw(running.baseUrl, 'GET', '/api/auth/is_logged', withCookie(token));
    expect(replay.status).toBe(401);
  });

  it('sets an HttpOnly, Secure, SameSite=Lax cookie with a fresh token per login, ending the previous session', async () => {
    const first = await rawLogin(running.baseUrl, { username: 'bob', password: 'bob-pw' });
    expect(first.status).toBe(200);
    expect(first.headers['set-cookie']).toMatch(SESSION_LINE);
    const second = await raw(running.baseUrl, 'POST', '/api/auth/login', {
      headers: { 'content-type': 'application/json', cookie: `FUSION_SESSION=${first.token}` },
      body: JSON.stringify({ data: { username: 'bob', password: 'bob-pw' } }),
    });
    expect(second.status).toBe(200);
    const token = /FUSION_SESSION=([^;]+)/.exec(String(second.headers['set-cookie']))![1]!;
    expect(token).not.toBe(first.token);
    expect((await raw(running.baseUrl, 'GET', '/api/auth/is_logged', withCookie(first.token!))).status).toBe(401);
    expect((await raw(running.baseUrl, 'GET', '/api/auth/is_logged', withCookie(token))).body.data).toEqual({ username: 'bob', groups: ['soc'] });
  });

  it('answers a wrong password and an unknown user the same way, setting no cookie', async () => {
    const before = await sessionCount();
    const wrong = await rawLogin(running.baseUrl, { username: 'alice', password: 'bob-pw' });
    const unknown = await rawLogin(running.baseUrl, { username: 'mallory', password: 'alice-pw' });
    for (const answer of [wrong, unknown]) {
      expect(answer.status).toBe(401);
      expect(answer.headers['set-cookie']).toBeUndefined();
    }
    const { request_id: _a, ...wrongBody } = wrong.body;
    const { request_id: _b, ...unknownBody } = unknown.body;
    expect(wrongBody).toEqual(unknownBody);
    expect(wrongBody.code).toBe('FUSION_ERR_LOGIN_FAILED');
    expect(await sessionCount()).toBe(before);
    expect((await apiKeyAuth().identities()).map((i) => i.username)).not.toContain('mallory');
  });

  it('grants every operation to an API key, as a managed identity', async () => {
    const auth = apiKeyAuth();
    expect((await auth.isLogged())?.toJSON()).toEqual({ username: 'collector', groups: [] });
    const client = running.client({ apiKey: API_KEY });
    expect(await client.get('/api/probe/op')).toEqual({ username: 'collector', managed: true });
    expect(await client.delete('/api/probe/thing')).toBe('deleted');
    expect(await client.get('/api/probe/refused')).toBe('never');
  });

  it('never treats a user named like an API client as managed', async () => {
    const client = running.client();
    await new FusionAuthAPIClient({ client }).login('collector', 'collector-pw');
    expect(await client.get('/api/probe/op')).toEqual({ username: 'collector', managed: false });
    await expect(client.delete('/api/probe/thing')).rejects.toMatchObject({ status: 403, code: 'FUSION_ERR_FORBIDDEN' });
  });

  it('refuses a wrong API key with 401, even beside a valid session', async () => {
    const login = await rawLogin(running.baseUrl, { username: 'alice', password: 'alice-pw' });
    for (const key of [`${API_KEY}x`, '', API_KEY.slice(0, -1)]) {
      const answer = await raw(running.baseUrl, 'GET', '/api/probe/op', {
        headers: { 'x-fusion-api-token': key, cookie: `FUSION_SESSION=${login.token}` },
      });
      expect(answer.status).toBe(401);
      expect(answer.body.code).toBe('FUSION_ERR_UNAUTHORIZED');
    }
  });

  it('answers 401 without an identity and 403 when the hook refuses or throws', async () => {
    expect((await raw(running.baseUrl, 'GET', '/api/probe/refused')).status).toBe(401);
    const client = running.client();
    await new FusionAuthAPIClient({ client }).login('alice', 'alice-pw');
    expect(await client.get('/api/probe/op')).toEqual({ username: 'alice', managed: false });
    await expect(client.get('/api/probe/refused')).rejects.toMatchObject({ status: 403, code: 'FUSION_ERR_FORBIDDEN' });
    await expect(client.get('/api/probe/throws')).rejects.toMatchObject({ status: 403, code: 'FUSION_ERR_FORBIDDEN' });
  });

  it('lets only can_delete_acs members run delete operations', async () => {
    const alice = running.client();
    await new FusionAuthAPIClient({ client: alice }).login('alice', 'alice-pw');
    expect(await alice.delete('/api/probe/thing')).toBe('deleted');
    const bob = running.client();
    await new FusionAuthAPIClient({ client: bob }).login('bob', 'bob-pw');
    await expect(bob.delete('/api/probe/thing')).rejects.toMatchObject({ status: 403, message: expect.stringContaining('can_delete_acs') });
  });

  it('refuses missing, malformed and forged cookies with 401, clearing a bad cookie', async () => {
    expect((await raw(running.baseUrl, 'GET', '/api/auth/is_logged')).status).toBe(401);
    expect((await raw(running.baseUrl, 'GET', '/api/auth/is_logged', withCookie('x'))).status).toBe(401);
    const forged = await raw(running.baseUrl, 'GET', '/api/auth/is_logged', withCookie(randomBytes(32).toString('base64url')));
    expect(forged.status).toBe(401);
    expect(forged.headers['set-cookie']).toMatch(/^FUSION_SESSION=; Path=\/; Max-Age=0; /);
  });

  it('refuses an expired session', async () => {
    const login = await rawLogin(running.baseUrl, { username: 'bob', password: 'bob-pw' });
    expect((await raw(running.baseUrl, 'GET', '/api/auth/is_logged', withCookie(login.token!))).status).toBe(200);
    await storage.updateSession(login.token!, { expiresAt: new Date(Date.now() - 1000) });
    expect((await raw(running.baseUrl, 'GET', '/api/auth/is_logged', withCookie(login.token!))).status).toBe(401);
  });

  it('renews a session past half its life, in storage and in the cookie, on any route', async () => {
    const login = await rawLogin(running.baseUrl, { username: 'bob', password: 'bob-pw' });
    const fresh = await raw(running.baseUrl, 'GET', '/api/probe/op', withCookie(login.token!));
    expect(fresh.headers['set-cookie']).toBeUndefined(); // young session: nothing to renew
    await storage.updateSession(login.token!, { expiresAt: new Date(Date.now() + 60_000) });
    const renewed = await raw(running.baseUrl, 'GET', '/api/probe/op', withCookie(login.token!));
    expect(renewed.status).toBe(200);
    expect(renewed.headers['set-cookie']).toBe(`FUSION_SESSION=${login.token}; Path=/; Max-Age=43200; HttpOnly; Secure; SameSite=Lax`);
    const row = await storage.retrieveSession(login.token!);
    expect(row!.expiresAt.getTime()).toBeGreaterThan(Date.now() + 40_000_000);
  });

  it('ends sessions the backend no longer knows, and refreshes groups it changed', async () => {
    const ghost = randomBytes(32).toString('base64url');
    const expiresAt = new Date(Date.now() + 3_600_000);
    await storage.createSession({ token: ghost, identity: new Identity({ username: 'ghost' }), expiresAt });
    expect((await raw(running.baseUrl, 'GET', '/api/auth/is_logged', withCookie(ghost))).status).toBe(401);
    expect(await storage.retrieveSession(ghost)).toBeNull();
    const stale = randomBytes(32).toString('base64url');
    await storage.createSession({ token: stale, identity: new Identity({ username: 'alice', groups: ['old'] }), expiresAt });
    const answer = await raw(running.baseUrl, 'GET', '/api/auth/is_logged', withCookie(stale));
    expect(answer.body.data).toEqual({ username: 'alice', groups: ['admins', 'soc'] });
    expect((await storage.retrieveSession(stale))!.identity.groups).toEqual(['admins', 'soc']);
  });

  it('refuses bad login bodies with 400 and stores nothing', async () => {
    const identitiesBefore = (await storage.enumerateIdentities()).length;
    const sessionsBefore = await sessionCount();
    const json = { 'content-type': 'application/json' };
    const bodies: [Record<string, string>, string, string][] = [
      [json, '{"data": {"username": "alice",', 'FUSION_ERR_BAD_JSON'],
      [json, '{}', 'FUSION_ERR_VALIDATION'],
      [json, '[]', 'FUSION_ERR_VALIDATION'],
      [json, '{"data": null}', 'FUSION_ERR_VALIDATION'],
      [json, '{"data": "alice"}', 'FUSION_ERR_VALIDATION'],
      [json, '{"data": {}}', 'FUSION_ERR_VALIDATION'],
      [json, '{"data": {"username": 42, "password": "alice-pw"}}', 'FUSION_ERR_VALIDATION'],
      [json, '{"data": {"username": "alice", "password": ["alice-pw"]}}', 'FUSION_ERR_VALIDATION'],
      [json, '{"data": {"username": "alice"}}', 'FUSION_ERR_VALIDATION'],
    ];
    for (const [headers, body, code] of bodies) {
      const answer = await raw(running.baseUrl, 'POST', '/api/auth/login', { headers, body });
      expect([answer.status, answer.body.code, body]).toEqual([400, code, body]);
      expect(answer.headers['set-cookie']).toBeUndefined();
    }
    const plain = await raw(running.baseUrl, 'POST', '/api/auth/login', { headers: { 'content-type': 'text/plain' }, body: 'alice' });
    expect([400, 415]).toContain(plain.status); // fastify parses text/plain: then the body schema refuses it
    expect((await storage.enumerateIdentities()).length).toBe(identitiesBefore);
    expect(await sessionCount()).toBe(sessionsBefore);
    expect((await raw(running.baseUrl, 'GET', '/api/health')).status).toBe(200);
  });

  it('traces every decision, granted or refused', async () => {
    audit.length = 0;
    const client = running.client();
    await new FusionAuthAPIClient({ client }).login('bob', 'bob-pw');
    await client.get('/api/probe/op');
    await client.get('/api/probe/refused').catch(() => undefined);
    await raw(running.baseUrl, 'GET', '/api/probe/op');
    await rawLogin(running.baseUrl, { username: 'bob', password: 'nope' });
    const seen = audit.map((line) => [line.operation, line.user, line.granted]);
    expect(seen).toEqual([
      ['login', 'bob', true],
      ['probe_op', 'bob', true],
      ['refused_op', 'bob', false],
      ['probe_op', null, false],
      ['login', null, false],
    ]);
    expect(audit[1]!.groups).toEqual(['soc']);
    expect(audit[3]!.context).toMatchObject({ client: '127.0.0.1', reason: expect.stringContaining('no valid session') });
    expect(audit[4]!.context).toMatchObject({ username: 'bob', reason: 'wrong credentials' });
    expect(JSON.stringify(audit)).not.toContain('nope');
  });
});
