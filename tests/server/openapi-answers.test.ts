/** The OpenAPI document tells the truth: errors a running server really answers are listed under their status for their route. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { KnexStorage } from '../../src/server/storage/knex-storage.js';
import type { TestServer } from '../../src/testing/index.js';
import { createTestServer } from '../../src/testing/index.js';
import { freshStorage } from '../helpers/storage.js';
import { silenceAudit } from './case/helpers.js';

interface Response {
  content?: Record<string, { schema: { allOf?: { properties?: { code?: { enum?: string[] } } }[] } }>;
}
interface OpenApiDoc {
  paths: Record<string, Record<string, { responses: Record<string, Response> }>>;
}

describe('the errors a running server answers are in its OpenAPI document', () => {
  silenceAudit();
  let storage: KnexStorage;
  let t: TestServer;
  let doc: OpenApiDoc;

  beforeAll(async () => {
    storage = await freshStorage('pglite');
    t = await createTestServer({ storage, config: { server: { docs: true } } });
    doc = (await (await fetch(`${t.baseUrl}/api/openapi.json`)).json()) as OpenApiDoc;
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await storage?.close();
  });

  /** Sends the request, then checks that its answer's status and code are documented for `path` (the OpenAPI template). */
  async function expectDocumented(method: string, url: string, path: string, init: { headers?: Record<string, string>; body?: string } = {}): Promise<string> {
    const answer = await fetch(`${t.baseUrl}${url}`, { method, ...init });
    const body = (await answer.json()) as { status: number; code: string };
    expect(body.status).toBe(answer.status);
    const listed = doc.paths[path]?.[method.toLowerCase()]?.responses[String(answer.status)]?.content?.['application/json']?.schema.allOf?.[1]?.properties?.code?.enum ?? [];
    expect({ route: `${method} ${path}`, status: answer.status, listed: listed.includes(body.code) ? body.code : listed }).toEqual({
      route: `${method} ${path}`,
      status: answer.status,
      listed: body.code,
    });
    return body.code;
  }

  it('on the case routes: bad GUID, no credentials, unknown case, closed case, taken guid, bad JSON, wrong media type, readonly key', async () => {
    const key = { 'x-fusion-api-token': t.apiKey };
    const json = { ...key, 'content-type': 'application/json' };
    const one = '/api/case/{case_guid}';
    expect(await expectDocumented('GET', '/api/case/not-a-guid', one, { headers: key })).toBe('FUSION_ERR_BAD_GUID');
    expect(await expectDocumented('GET', `/api/case/${randomUUID()}`, one)).toBe('FUSION_ERR_UNAUTHORIZED');
    expect(await expectDocumented('GET', `/api/case/${randomUUID()}`, one, { headers: key })).toBe('FUSION_ERR_CASE_NOT_FOUND');
    const created = await t.clients.service.case.createCase({ name: 'documented errors', acs: ['users'] });
    expect(await expectDocumented('POST', '/api/case', '/api/case', { headers: json, body: JSON.stringify({ guid: created.guid, name: 'again' }) })).toBe('FUSION_ERR_CASE_EXISTS');
    expect(await expectDocumented('POST', '/api/case', '/api/case', { headers: json, body: '{"name": ' })).toBe('FUSION_ERR_BAD_JSON');
    expect(await expectDocumented('POST', '/api/case', '/api/case', { headers: { ...key, 'content-type': 'text/plain' }, body: 'name' })).toBe('FUSION_ERR_UNSUPPORTED_MEDIA_TYPE');
    expect(await expectDocumented('PUT', `/api/case/${created.guid}`, one, { headers: json, body: JSON.stringify({ guid: randomUUID() }) })).toBe('FUSION_ERR_CONCEPT_READONLY');
    await t.clients.service.case.closeCase(created.guid);
    expect(await expectDocumented('PUT', `/api/case/${created.guid}`, one, { headers: json, body: JSON.stringify({ name: 'reopened?' }) })).toBe('FUSION_ERR_CASE_CLOSED');
  });

  it('on login: a wrong password', async () => {
    const body = JSON.stringify({ data: { username: t.users[0]!.username, password: 'not the password' } });
    expect(await expectDocumented('POST', '/api/auth/login', '/api/auth/login', { headers: { 'content-type': 'application/json' }, body })).toBe('FUSION_ERR_LOGIN_FAILED');
  });
});
