/** The demo of examples/demo, through HTTP as the README's curl walkthrough does it (storage in memory). */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { Constant } from '../../src/concept/index.js';
import { setAuditSink } from '../../src/helper/tracing.js';
import { loadConfig } from '../../src/server/config.js';
import { FusionServer } from '../../src/server/server.js';

const CONFIG = fileURLToPath(new URL('../../examples/demo/config.yaml', import.meta.url));
const KEY = 'demo-collector-key-0123456789abcdef';

interface Answer {
  status: number;
  body: { status: number; data?: unknown; count?: number; code?: string };
  setCookie: string[];
}

/** curl: method, path, headers, JSON body. */
async function curl(base: string, method: string, path: string, options: { headers?: Record<string, string>; json?: unknown } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.json !== undefined) headers['content-type'] = 'application/json';
  const response = await request(`${base}${path}`, {
    method: method as 'GET',
    headers,
    ...(options.json !== undefined ? { body: JSON.stringify(options.json) } : {}),
  });
  const setCookie = response.headers['set-cookie'];
  return {
    status: response.statusCode,
    body: (await response.body.json()) as Answer['body'],
    setCookie: setCookie === undefined ? [] : [setCookie].flat(),
  };
}

describe('examples/demo', () => {
  let server: FusionServer;
  let base: string;

  beforeAll(async () => {
    setAuditSink({ info: () => undefined, warn: () => undefined });
    const config = await loadConfig(CONFIG);
    server = await FusionServer.fromConfig({
      ...config,
      server: { ...config.server, logLevel: 'silent' },
      storage: { ...config.storage, url: 'memory://' },
    });
    base = await server.listen({ host: '127.0.0.1', port: 0 });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    setAuditSink(undefined);
  });

  it('mounts auth, info, constant and case from its config', async () => {
    expect(server.apis.map((api) => api.name)).toEqual(['auth', 'info', 'constant', 'case']);
    expect((await curl(base, 'GET', '/api/info')).body.data).toMatchObject({ api: 'demo' });
    const constant = Constant.fromJSON((await curl(base, 'GET', '/api/constant')).body.data);
    expect(constant.allow_empty_acs).toBe(true);
  });

  it('runs the walkthrough: login, create, list, update, close, delete', async () => {
    const login = await curl(base, 'POST', '/api/auth/login', { json: { data: { username: 'analyst', password: 'analyst-demo-password' } } });
    expect(login.body).toEqual({ status: 200, data: { username: 'analyst', groups: ['analysts'] }, count: 2 });
    const session = login.setCookie.map((line) => line.split(';')[0]!).find((pair) => pair.startsWith('FUSION_SESSION='));
    expect(session).toBeDefined();
    expect(login.setCookie.join()).not.toMatch(/Secure/); // the demo serves plain http: cookie.secure is false
    const jar = { cookie: session! };

    const created = await curl(base, 'POST', '/api/case', {
      headers: jar,
      json: { name: 'Phishing wave', description: 'Reported by the SOC', acs: ['analysts'] },
    });
    expect(created.status).toBe(200);
    const guid = (created.body.data as { guid: string }).guid;

    const list = await curl(base, 'GET', '/api/cases', { headers: jar });
    expect(list.body.count).toBe(1);
    expect((list.body.data as { name: string }[]).map((c) => c.name)).toEqual(['Phishing wave']);

    const updated = await curl(base, 'PUT', `/api/case/${guid}`, { headers: jar, json: { description: '12 mailboxes hit' } });
    expect((updated.body.data as { description: string }).description).toBe('12 mailboxes hit');

    const closedAt = `${new Date().toISOString().slice(0, 19)}Z`; // date -u +%Y-%m-%dT%H:%M:%SZ
    const closed = await curl(base, 'PUT', `/api/case/${guid}`, { headers: jar, json: { closed: closedAt } });
    expect((closed.body.data as { closed: string }).closed).toBe(closedAt.replace('Z', '+00:00'));
    const tooLate = await curl(base, 'PUT', `/api/case/${guid}`, { headers: jar, json: { name: 'too late' } });
    expect(tooLate.body).toMatchObject({ status: 409, code: 'FUSION_ERR_CASE_CLOSED' });

    expect((await curl(base, 'DELETE', `/api/case/${guid}`, { headers: jar })).body).toEqual({ status: 200 });
    expect((await curl(base, 'GET', `/api/case/${guid}`, { headers: jar })).status).toBe(404);
  });

  it('runs the API-key variant: no login, managed cases, every case visible', async () => {
    const token = { 'x-fusion-api-token': KEY };
    const created = await curl(base, 'POST', '/api/case', { headers: token, json: { name: 'Mirrored case' } });
    expect(created.body.data).toMatchObject({ name: 'Mirrored case', managed: true });
    const list = await curl(base, 'GET', '/api/cases', { headers: token });
    expect(list.body.count).toBe(1);
    expect((await curl(base, 'GET', '/api/cases')).status).toBe(401);
  });
});
