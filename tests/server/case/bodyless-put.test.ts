/**
 * edf_fusion's Python client (aiohttp) sends body-less PUTs labelled
 * `Content-Type: application/octet-stream`: routes that take no body accept an empty body of
 * any type, while a non-empty body of another type than JSON stays a 415.
 */
import { describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { raw, silenceAudit, usePgliteCaseServer } from './helpers.js';

silenceAudit();

const env = usePgliteCaseServer();

describe('body-less requests of any content type', () => {
  it.each(['application/octet-stream', 'text/plain', 'application/json', 'application/x-www-form-urlencoded'])('attach_case accepts an empty %s body', async (type) => {
    const created = await env.server.clients.user.case.createCase({ name: `attach ${type}`, acs: ['soc'] });
    const next = randomUUID();
    const answer = await raw(env.server.baseUrl, 'PUT', `/api/case/${created.guid}/attach/${next}`, {
      headers: { 'content-type': type, 'content-length': '0', 'x-fusion-api-token': env.server.apiKey },
      body: '',
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ status: 200, data: { guid: next, managed: true } });
  });

  it('still refuses a non-empty body of another type than JSON with 415', async () => {
    const created = await env.server.clients.user.case.createCase({ name: 'attach with body', acs: ['soc'] });
    const answer = await raw(env.server.baseUrl, 'PUT', `/api/case/${created.guid}/attach/${randomUUID()}`, {
      headers: { 'content-type': 'application/octet-stream', 'x-fusion-api-token': env.server.apiKey },
      body: Buffer.from([1, 2, 3]),
    });
    expect(answer.status).toBe(415);
    expect(answer.body).toMatchObject({ status: 415, code: 'FUSION_ERR_UNSUPPORTED_MEDIA_TYPE' });
  });

  it('still refuses an empty JSON body where a body is expected', async () => {
    const answer = await raw(env.server.baseUrl, 'POST', '/api/case', { headers: { 'content-type': 'application/json', 'x-fusion-api-token': env.server.apiKey }, body: '' });
    expect(answer).toMatchObject({ status: 400, body: { code: 'FUSION_ERR_BAD_JSON' } });
  });
});
