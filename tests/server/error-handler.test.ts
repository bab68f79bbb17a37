import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request } from 'undici';
import { FusionClientError } from '../../src/client/errors.js';
import { mapError, validationMessage } from '../../src/server/error-handler.js';
import type { KnexStorage } from '../../src/server/storage/knex-storage.js';
import { freshStorage } from '../helpers/storage.js';
import { startServer } from './harness.js';
import type { Harness } from './harness.js';
import { ProbeAPI } from './probe-api.js';

let storage: KnexStorage;
let h: Harness;

beforeAll(async () => {
  storage = await freshStorage('pglite');
  h = await startServer({ storage, apis: [new ProbeAPI()], config: { server: { client_max_size: 1024 } } });
}, 120_000);

afterAll(async () => {
  await h?.close();
  await storage?.close();
});

/** Raw POST so we can send what our client never would. */
async function rawPost(path: string, body: string, contentType = 'application/json') {
  const res = await request(`${h.url}${path}`, { method: 'POST', body, headers: { 'content-type': contentType } });
  return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
}

async function failure(promise: Promise<unknown>): Promise<FusionClientError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FusionClientError);
  return error as FusionClientError;
}

describe('error envelope', () => {
  it('answers bad JSON with 400 FUSION_ERR_BAD_JSON and a request id', async () => {
    const res = await rawPost('/api/probe/echo', '{"name": ');
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      status: 400,
      code: 'FUSION_ERR_BAD_JSON',
      message: expect.stringContaining('not valid JSON'),
      request_id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-z]+$/),
    });
  });

  it('names the field of a validation error', async () => {
    const empty = await failure(h.client.post('/api/probe/echo', { name: '' }));
    expect(empty).toMatchObject({ status: 400, code: 'FUSION_ERR_VALIDATION', message: 'body.name: must NOT have fewer than 1 characters' });
    const missing = await failure(h.client.post('/api/probe/echo', { count: 1 }));
    expect(missing.message).toBe('body.name: is required');
    const wrongType = await failure(h.client.post('/api/probe/echo', { name: 'x', count: 'many' }));
    expect(wrongType.message).toBe('body.count: must be integer');
    expect(wrongType.requestId).toMatch(/-/);
  });

  it('answers an oversized body with 413', async () => {
    const error = await failure(h.client.post('/api/probe/echo', { name: 'x'.repeat(2000) }));
    expect(error).toMatchObject({ status: 413, code: 'FUSION_ERR_BODY_TOO_LARGE' });
    expect(error.message).toContain('client_max_size');
  });

  it('answers a wrong content type with 415', async () => {
    const res = await rawPost('/api/probe/echo', 'name=x', 'application/x-www-form-urlencoded');
    expect(res.status).toBe(415);
    expect(res.body.code).toBe('FUSION_ERR_UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers an unknown route with 404 FUSION_ERR_NOT_FOUND', async () => {
    const error = await failure(h.client.get('/api/nowhere?x=1'));
    expect(error).toMatchObject({ status: 404, code: 'FUSION_ERR_NOT_FOUND', message: expect.stringContaining('GET /api/nowhere') });
    expect(error.message).not.toContain('x=1');
  });

  it('hides the internals of a 500, logs them, and keeps serving', async () => {
    const error = await failure(h.client.get('/api/probe/boom'));
    expect(error).toMatchObject({ status: 500, code: 'FUSION_ERR_INTERNAL', message: 'internal error' });
    expect(error.requestId).not.toBeNull();
    const logged = h.logs.find((line) => line.request_id === error.requestId && line.level === 50);
    expect(JSON.stringify(logged)).toContain('hunter2');
    await expect(h.client.get('/api/probe/text')).resolves.toBe('h\u00e9\u{1F600}');
  });

  it('maps FusionError and ConceptError to their status and code', async () => {
    expect(await failure(h.client.get('/api/probe/conflict'))).toMatchObject({ status: 409, code: 'FUSION_ERR_CASE_EXISTS', message: 'case exists already' });
    const concept = await failure(h.client.get('/api/probe/concept'));
    expect(concept).toMatchObject({ status: 400, code: 'FUSION_ERR_CONCEPT_INVALID' });
    expect(concept.message).toContain('Case.name');
    expect(await failure(h.client.get('/api/probe/closed'))).toMatchObject({ status: 409, code: 'FUSION_ERR_CASE_CLOSED' });
  });
});

describe('mapError', () => {
  it('keeps the message of a deliberate 503 and hides a FusionError 500', async () => {
    const { FusionError } = await import('../../src/helper/errors.js');
    expect(mapError(new FusionError('FUSION_ERR_CONSTANT_UNAVAILABLE', 'file missing'))).toMatchObject({ status: 503, message: 'file missing' });
    expect(mapError(new FusionError('FUSION_ERR_STORAGE', 'postgres://user:secret@db'))).toMatchObject({ status: 500, message: 'internal error', internal: true });
    expect(mapError('a string')).toMatchObject({ status: 500, code: 'FUSION_ERR_INTERNAL' });
  });

  it('renders nested paths and unknown keys', () => {
    expect(validationMessage('body', [{ instancePath: '/acs/0', keyword: 'type', message: 'must be string' }])).toBe('body.acs.0: must be string');
    expect(validationMessage('query', [{ instancePath: '', keyword: 'additionalProperties', params: { additionalProperty: 'x' } }])).toBe('query.x: is not allowed');
  });
});
