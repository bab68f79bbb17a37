import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { Case } from '../../../src/concept/index.js';
import type { TestServer } from '../../../src/testing/index.js';
import { describeStorage } from '../../helpers/storage.js';
import { raw, silenceAudit, snapshot, startCaseServer } from './helpers.js';

type Who = 'alice' | 'service' | 'anonymous' | 'forged' | 'garbage';

interface BadRequest {
  what: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** `{case}` is replaced by the existing case's guid, `{unknown}` by a fresh one. */
  path: string;
  who?: Who;
  body?: string;
  json?: unknown;
  contentType?: string;
  status: number;
  code: string;
  message?: RegExp;
}

const HUGE = JSON.stringify({ name: 'x'.repeat(1_500_000) });

const BAD: BadRequest[] = [
  // POST /api/case
  { what: 'create: invalid JSON', method: 'POST', path: '/api/case', body: '{"name":', status: 400, code: 'FUSION_ERR_BAD_JSON' },
  { what: 'create: empty JSON body', method: 'POST', path: '/api/case', body: '', status: 400, code: 'FUSION_ERR_BAD_JSON' },
  { what: 'create: __proto__ key', method: 'POST', path: '/api/case', body: '{"name":"x","__proto__":{"admin":true}}', status: 400, code: 'FUSION_ERR_BAD_JSON' },
  { what: 'create: null body', method: 'POST', path: '/api/case', body: 'null', status: 400, code: 'FUSION_ERR_VALIDATION', message: /^body: expected a JSON object/ },
  { what: 'create: list body', method: 'POST', path: '/api/case', json: [{ name: 'x' }], status: 400, code: 'FUSION_ERR_VALIDATION', message: /got a list/ },
  { what: 'create: string body', method: 'POST', path: '/api/case', json: 'x', status: 400, code: 'FUSION_ERR_VALIDATION' },
  { what: 'create: no body', method: 'POST', path: '/api/case', status: 400, code: 'FUSION_ERR_VALIDATION', message: /got no body/ },
  { what: 'create: text/plain', method: 'POST', path: '/api/case', body: 'name=x', contentType: 'text/plain', status: 415, code: 'FUSION_ERR_UNSUPPORTED_MEDIA_TYPE' },
  { what: 'create: form body', method: 'POST', path: '/api/case', body: 'name=x', contentType: 'application/x-www-form-urlencoded', status: 415, code: 'FUSION_ERR_UNSUPPORTED_MEDIA_TYPE' },
  { what: 'create: name missing', method: 'POST', path: '/api/case', json: {}, status: 400, code: 'FUSION_ERR_CONCEPT_INVALID', message: /^Case\.name: / },
  { what: 'create: name of wrong type', method: 'POST', path: '/api/case', json: { name: 42 }, status: 400, code: 'FUSION_ERR_CONCEPT_INVALID', message: /^Case\.name: expected string, got 42/ },
  { what: 'create: empty name', method: 'POST', path: '/api/case', json: { name: '' }, status: 400, code: 'FUSION_ERR_CONCEPT_INVALID', message: /^Case\.name/ },
  { what: 'create: unknown field', method: 'POST', path: '/api/case', json: { name: 'x', colour: 'red' }, status: 400, code: 'FUSION_ERR_CONCEPT_INVALID', message: /^Case\.colour: unknown field/ },
  { what: 'create: bad guid', method: 'POST', path: '/api/case', json: { name: 'x', guid: 'case-1' }, status: 400, code: 'FUSION_ERR_CONCEPT_INVALID', message: /^Case\.guid/ },
  { what: 'create: acs not a list', method: 'POST', path: '/api/case', json: { name: 'x', acs: 'soc' }, status: 400, code: 'FUSION_ERR_CONCEPT_INVALID', message: /^Case\.acs/ },
  { what: 'create: acs of numbers', method: 'POST', path: '/api/case', json: { name: 'x', acs: [1] }, status: 400, code: 'FUSION_ERR_CONCEPT_INVALID', message: /^Case\.acs/ },
  { what: 'create: bad datetime', method: 'POST', path: '/api/case', json: { name: 'x', created: 'yesterday' }, status: 400, code: 'FUSION_ERR_CONCEPT_INVALID', message: /^Case\.created/ },
  { what: 'create: managed not boolean', method: 'POST', path: '/api/case', json: { name: 'x', managed: 'yes' }, status: 400, code: 'FUSION_ERR_CONCEPT_INVALID', message: /^Case\.managed/ },
  { what: 'create: NUL in name', method: 'POST', path: '/api/case', body: '{"name":"a\\u0000b","acs":["soc"]}', status: 400, code: 'FUSION_ERR_CONCEPT_INVALID', message: /^Case\.name: contains a NUL character/ },
  { what: 'create: lone surrogate in description', method: 'POST', path: '/api/case', body: '{"name":"x","description":"\\ud800","acs":["soc"]}', status: 400, code: 'FUSION_ERR_CONCEPT_INVALID', message: /^Case\.description: contains an unpaired surrogate/ },
  { what: 'create: NUL in an acs entry', method: 'POST', path: '/api/case', body: '{"name":"x","acs":["soc","\\u0000"]}', status: 400, code: 'FUSION_ERR_CONCEPT_INVALID', message: /^Case\.acs\[1\]: contains a NUL/ },
  { what: 'create: oversized body', method: 'POST', path: '/api/case', body: HUGE, status: 413, code: 'FUSION_ERR_BODY_TOO_LARGE' },
  { what: 'create: bad body, no credentials', method: 'POST', path: '/api/case', who: 'anonymous', json: { name: 42 }, status: 401, code: 'FUSION_ERR_UNAUTHORIZED' },
  { what: 'create: forged cookie', method: 'POST', path: '/api/case', who: 'forged', json: { name: 'x' }, status: 401, code: 'FUSION_ERR_UNAUTHORIZED' },
  // PUT /api/case/:case_guid
  { what: 'update: invalid JSON', method: 'PUT', path: '/api/case/{case}', body: '{"name" "x"}', status: 400, code: 'FUSION_ERR_BAD_JSON' },
  { what: 'update: list body', method: 'PUT', path: '/api/case/{case}', json: [], status: 400, code: 'FUSION_ERR_VALIDATION' },
  { what: 'update: wrong type', method: 'PUT', path: '/api/case/{case}', json: { name: 42 }, status: 400, code: 'FUSION_ERR_CONCEPT_INVALID', message: /^Case\.name/ },
  { what: 'update: unknown field', method: 'PUT', path: '/api/case/{case}', json: { name: 'y', colour: 'red' }, status: 400, code: 'FUSION_ERR_CONCEPT_INVALID', message: /^Case\.colour: unknown field/ },
  { what: 'update: readonly guid', method: 'PUT', path: '/api/case/{case}', json: { guid: randomUUID() }, status: 400, code: 'FUSION_ERR_CONCEPT_READONLY', message: /^Case\.guid: is readonly/ },
  { what: 'update: acs of wrong type', method: 'PUT', path: '/api/case/{case}', json: { acs: { soc: true } }, status: 400, code: 'FUSION_ERR_CONCEPT_INVALID' },
  { what: 'update: NUL in name', method: 'PUT', path: '/api/case/{case}', body: '{"name":"\\u0000"}', status: 400, code: 'FUSION_ERR_CONCEPT_INVALID', message: /^Case\.name: contains a NUL character/ },
  { what: 'update: lone low surrogate in a webhook', method: 'PUT', path: '/api/case/{case}', body: '{"webhooks":["https://x.example/\\udc00"]}', status: 400, code: 'FUSION_ERR_CONCEPT_INVALID', message: /^Case\.webhooks\[0\]: contains an unpaired surrogate/ },
  { what: 'update: oversized body', method: 'PUT', path: '/api/case/{case}', body: HUGE, status: 413, code: 'FUSION_ERR_BODY_TOO_LARGE' },
  { what: 'update: bad guid', method: 'PUT', path: '/api/case/not-a-guid', json: { name: 'y' }, status: 400, code: 'FUSION_ERR_BAD_GUID', message: /^case_guid: expected a UUID/ },
  { what: 'update: unknown case', method: 'PUT', path: '/api/case/{unknown}', json: { name: 'y' }, status: 404, code: 'FUSION_ERR_CASE_NOT_FOUND' },
  { what: 'update: no credentials', method: 'PUT', path: '/api/case/{case}', who: 'anonymous', json: { name: 'y' }, status: 401, code: 'FUSION_ERR_UNAUTHORIZED' },
  { what: 'update: garbage cookie', method: 'PUT', path: '/api/case/{case}', who: 'garbage', json: { name: 'y' }, status: 401, code: 'FUSION_ERR_UNAUTHORIZED' },
  // GET / DELETE /api/case/:case_guid
  { what: 'retrieve: bad guid', method: 'GET', path: '/api/case/12345', status: 400, code: 'FUSION_ERR_BAD_GUID' },
  { what: 'retrieve: traversal', method: 'GET', path: '/api/case/..%2F..%2Fetc%2Fpasswd', status: 400, code: 'FUSION_ERR_BAD_GUID' },
  { what: 'retrieve: unknown case', method: 'GET', path: '/api/case/{unknown}', status: 404, code: 'FUSION_ERR_CASE_NOT_FOUND' },
  { what: 'retrieve: forged cookie', method: 'GET', path: '/api/case/{case}', who: 'forged', status: 401, code: 'FUSION_ERR_UNAUTHORIZED' },
  { what: 'delete: bad guid', method: 'DELETE', path: '/api/case/%00', status: 400, code: 'FUSION_ERR_BAD_GUID' },
  { what: 'delete: unknown case', method: 'DELETE', path: '/api/case/{unknown}', status: 404, code: 'FUSION_ERR_CASE_NOT_FOUND' },
  { what: 'delete: no credentials', method: 'DELETE', path: '/api/case/{case}', who: 'anonymous', status: 401, code: 'FUSION_ERR_UNAUTHORIZED' },
  // GET /api/cases, PUT attach
  { what: 'enumerate: forged cookie', method: 'GET', path: '/api/cases', who: 'forged', status: 401, code: 'FUSION_ERR_UNAUTHORIZED' },
  { what: 'attach: bad case guid', method: 'PUT', path: `/api/case/nope/attach/${randomUUID()}`, who: 'service', status: 400, code: 'FUSION_ERR_BAD_GUID' },
  { what: 'attach: bad next guid', method: 'PUT', path: '/api/case/{case}/attach/nope', who: 'service', status: 400, code: 'FUSION_ERR_BAD_GUID', message: /^next_case_guid/ },
  { what: 'attach: by a user', method: 'PUT', path: '/api/case/{case}/attach/{unknown}', status: 403, code: 'FUSION_ERR_FORBIDDEN' },
  { what: 'attach: onto a taken guid', method: 'PUT', path: '/api/case/{case}/attach/{other}', who: 'service', status: 409, code: 'FUSION_ERR_CASE_EXISTS' },
];

describeStorage('FusionCaseAPI bad input', (getStorage) => {
  silenceAudit();
  let t: TestServer;
  let existing: Case;
  let other: Case;

  beforeAll(async () => {
    t = await startCaseServer(getStorage());
    existing = await t.clients.user.case.createCase({ name: 'existing', acs: ['soc'] });
    other = await t.clients.user.case.createCase({ name: 'other', acs: ['soc'] });
  }, 60_000);

  afterAll(async () => {
    await t?.close();
  });

  function headers(who: Who, contentType: string | undefined): Record<string, string> {
    const out: Record<string, string> = contentType === undefined ? {} : { 'content-type': contentType };
    if (who === 'alice') out.cookie = `FUSION_SESSION=${t.clients.user.client.sessionCookie}`;
    if (who === 'service') out['x-fusion-api-token'] = t.apiKey;
    if (who === 'forged') out.cookie = 'FUSION_SESSION=dGhpcyBpcyBub3QgYSBzZXNzaW9u';
    if (who === 'garbage') out.cookie = `FUSION_SESSION; ${'\u00e9'.repeat(10)}=${'x'.repeat(8000)}`;
    return out;
  }

  for (const bad of BAD) {
    it(`${bad.what}: ${bad.status} ${bad.code}, storage unchanged`, async () => {
      const before = await snapshot(getStorage());
      const path = bad.path.replace('{case}', existing.guid).replace('{other}', other.guid).replace('{unknown}', randomUUID());
      const hasBody = bad.body !== undefined || bad.json !== undefined;
      const contentType = bad.contentType ?? (hasBody ? 'application/json' : undefined);
      const answer = await raw(t.baseUrl, bad.method, path, {
        headers: headers(bad.who ?? 'alice', contentType),
        ...(bad.json !== undefined ? { body: JSON.stringify(bad.json) } : bad.body !== undefined ? { body: bad.body } : {}),
      });
      expect(answer.status).toBe(bad.status);
      expect(answer.body).toMatchObject({ status: bad.status, code: bad.code });
      expect(typeof answer.body.message).toBe('string');
      if (bad.message) expect(answer.body.message).toMatch(bad.message);
      expect(await snapshot(getStorage())).toEqual(before);
    });
  }

  it('still serves afterwards, with the cases as they were', async () => {
    const cases = await t.clients.user.case.enumerateCases();
    expect(cases.find((c) => c.guid === existing.guid)?.equals(existing)).toBe(true);
    expect((await t.clients.user.case.updateCase(existing.guid, { description: 'still here' })).description).toBe('still here');
  });
});
