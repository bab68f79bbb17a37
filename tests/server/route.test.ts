import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FusionClientError } from '../../src/client/errors.js';
import { Case } from '../../src/concept/index.js';
import { FusionAPI } from '../../src/server/api.js';
import { checkGuid } from '../../src/server/route.js';
import type { KnexStorage } from '../../src/server/storage/knex-storage.js';
import { freshStorage } from '../helpers/storage.js';
import { startServer } from './harness.js';
import type { Harness } from './harness.js';
import { HeaderAuthorizer, ProbeAPI } from './probe-api.js';

let storage: KnexStorage;
let open: Harness;
let guarded: Harness;
const authorizer = new HeaderAuthorizer();

/** Installs the test authorizer as an auth API would. */
class TestAuthAPI extends FusionAPI {
  readonly name = 'test-auth';
  setup(_app: unknown, server: { setAuthorizer(a: HeaderAuthorizer): void }): void {
    server.setAuthorizer(authorizer);
  }
}

beforeAll(async () => {
  storage = await freshStorage('pglite');
  open = await startServer({ storage, apis: [new ProbeAPI()] });
  guarded = await startServer({ storage, apis: [new TestAuthAPI(), new ProbeAPI()] });
}, 120_000);

afterAll(async () => {
  await open?.close();
  await guarded?.close();
  await storage?.close();
});

async function failure(promise: Promise<unknown>): Promise<FusionClientError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FusionClientError);
  return error as FusionClientError;
}

describe('route() values', () => {
  it('wraps arrays of concepts, strings and undefined in the envelope', async () => {
    const res = await fetch(`${open.url}/api/probe/list`);
    expect(await res.json()).toEqual({ status: 200, data: [{ api: 'a', version: '1' }, { api: 'b', version: '2' }], count: 2 });
    expect(await (await fetch(`${open.url}/api/probe/text`)).json()).toEqual({ status: 200, data: 'h\u00e9\u{1F600}', count: 3 });
    expect(await (await fetch(`${open.url}/api/probe/nothing`)).json()).toEqual({ status: 200 });
  });

  it('serializes through the response schema (unlisted keys are dropped)', async () => {
    const data = await open.client.post('/api/probe/echo', { name: 'x', count: 2, extra: true });
    expect(data).toEqual({ name: 'x', count: 2 });
  });
});

describe('GUID params', () => {
  it('lowercases a GUID and leaves other params alone', async () => {
    const guid = randomUUID();
    const data = await open.client.get(`/api/probe/item/${guid.toUpperCase()}/MiXed`);
    expect(data).toEqual({ item_guid: guid, other: 'MiXed' });
  });

  it.each(['not-a-guid', 'urn:uuid:0f6c2d9a-3b1e-4f5a-9c8d-7e6f5a4b3c2d', '0f6c2d9a3b1e4f5a9c8d7e6f5a4b3c2d', '%27%20or%201=1'])(
    'refuses %s with 400 FUSION_ERR_BAD_GUID',
    async (bad) => {
      const error = await failure(open.client.get(`/api/probe/item/${bad}/x`));
      expect(error).toMatchObject({ status: 400, code: 'FUSION_ERR_BAD_GUID' });
      expect(error.message).toContain('item_guid');
    },
  );

  it('checkGuid names the param and the bad value', () => {
    expect(() => checkGuid('case_guid', 'nope')).toThrow(/case_guid: expected a UUID .* got "nope"/);
    expect(checkGuid('g', 'ABCDEF00-0000-4000-8000-000000000000')).toBe('abcdef00-0000-4000-8000-000000000000');
  });
});

describe('authorization and case loading', () => {
  it('answers 401 saying no auth API is mounted when the server has no authorizer', async () => {
    const error = await failure(open.client.get('/api/probe/private'));
    expect(error).toMatchObject({ status: 401, code: 'FUSION_ERR_UNAUTHORIZED' });
    expect(error.message).toContain('no auth API is mounted');
  });

  it('passes the identity, the operation and the context to the authorizer', async () => {
    const user = guarded.connect({ headers: { 'x-test-user': 'jdoe:soc' } });
    expect(await user.get('/api/probe/private')).toEqual({ username: 'jdoe', groups: ['soc'] });
    expect(await failure(guarded.client.get('/api/probe/private'))).toMatchObject({ status: 401, message: 'send X-Test-User' });
    const created = await storage.createCase(new Case({ name: 'open case', acs: ['soc'] }));
    authorizer.calls.length = 0;
    await user.delete(`/api/probe/case/${created.guid.toUpperCase()}`);
    expect(authorizer.calls).toEqual([{ operation: 'delete_case', context: { case_guid: created.guid, is_delete_op: true } }]);
  });

  it('loads the case: 404 unknown, 403 outside its acs, 409 closed with caseOpenCheck', async () => {
    const soc = guarded.connect({ headers: { 'x-test-user': 'jdoe:soc' } });
    const other = guarded.connect({ headers: { 'x-test-user': 'eve:sales' } });
    const unknown = randomUUID();
    expect(await failure(soc.get(`/api/probe/case/${unknown}`))).toMatchObject({ status: 404, code: 'FUSION_ERR_CASE_NOT_FOUND' });
    const restricted = await storage.createCase(new Case({ name: 'restricted', acs: ['soc'] }));
    expect(await soc.get(`/api/probe/case/${restricted.guid}`)).toMatchObject({ name: 'restricted', acs: ['soc'] });
    expect(await failure(other.get(`/api/probe/case/${restricted.guid}`))).toMatchObject({ status: 403, code: 'FUSION_ERR_FORBIDDEN' });
    const closed = await storage.createCase(new Case({ name: 'closed', closed: new Date() }));
    expect(await soc.get(`/api/probe/case/${closed.guid}`)).toMatchObject({ name: 'closed' });
    expect(await failure(soc.delete(`/api/probe/case/${closed.guid}`))).toMatchObject({ status: 409, code: 'FUSION_ERR_CASE_CLOSED' });
  });

  it('rejects bad registrations at once', () => {
    const app = open.server.fastify;
    const handler = () => undefined;
    expect(() => open.server.route(app, { method: 'GET', url: '/api/x/:id', operation: 'x', params: ['case_guid'] }, handler)).toThrow(
      /GUID param 'case_guid' does not appear/,
    );
    expect(() => open.server.route(app, { method: 'GET', url: '/api/x', operation: '' }, handler)).toThrow(/operation must be/);
    expect(() => open.server.route(app, { method: 'GET', url: '/api/x', operation: 'x', caseOpenCheck: true }, handler)).toThrow(
      /caseOpenCheck needs/,
    );
  });
});
