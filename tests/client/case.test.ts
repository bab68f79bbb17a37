import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FusionCaseAPIClient } from '../../src/client/api/case.js';
import { FusionClientError } from '../../src/client/errors.js';
import { Case, field } from '../../src/concept/index.js';
import type { KnexStorage } from '../../src/server/storage/knex-storage.js';
import type { TestServer } from '../../src/testing/index.js';
import { createTestServer } from '../../src/testing/index.js';
import { freshStorage } from '../helpers/storage.js';
import { silenceAudit } from '../server/case/helpers.js';

class TimelineCase extends Case.extend('TimelineCase', { color: field.string().default('red') }) {}
class StrictCase extends Case.extend('StrictCase', { severity: field.integer() }) {}

describe('FusionCaseAPIClient', () => {
  silenceAudit();
  let storage: KnexStorage;
  let t: TestServer;

  beforeAll(async () => {
    storage = await freshStorage('pglite');
    t = await createTestServer({ storage });
  }, 60_000);

  afterAll(async () => {
    await t?.close();
    await storage?.close();
  });

  it('checks its options and arguments', () => {
    expect(() => new FusionCaseAPIClient({} as never)).toThrow('FusionCaseAPIClient: client is required');
    expect(() => new FusionCaseAPIClient({ client: t.clients.user.client, caseClass: 'Case' as never })).toThrow('caseClass must be Case or a subclass');
    expect(() => t.clients.user.case.retrieveCase('')).toThrow(TypeError);
    expect(() => t.clients.user.case.createCase(null as never)).toThrow('input must be a case or a plain object');
    expect(() => t.clients.user.case.updateCase('x', [] as never)).toThrow('patch must be a case or a plain object');
  });

  it('creates from a case instance (keeping its guid) or from a partial wire object', async () => {
    const local = new Case({ name: 'made locally', acs: ['users'] });
    const created = await t.clients.user.case.createCase(local);
    expect(created).toBeInstanceOf(Case);
    expect(created.guid).toBe(local.guid);
    expect(created.equals(local)).toBe(true);
    const fromWire = await t.clients.user.case.createCase({ name: 'from wire', description: 'd' });
    expect(fromWire.description).toBe('d');
  });

  it('updates with a modified whole case, as Python clients do, and closes', async () => {
    const created = await t.clients.user.case.createCase({ name: 'to edit' });
    const edited = created.clone();
    edited.name = 'edited';
    const updated = await t.clients.user.case.updateCase(created.guid, edited);
    expect(updated.name).toBe('edited');
    const closed = await t.clients.user.case.closeCase(created.guid, new Date('2030-01-02T03:04:05Z'));
    expect(closed.closed?.toISOString()).toBe('2030-01-02T03:04:05.000Z');
  });

  it('throws FusionClientError with the server code, status and request id', async () => {
    const error = await t.clients.user.case.retrieveCase('0f6c2d9a-3b1e-4f5a-9c8d-7e6f5a4b3c2d').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FusionClientError);
    expect(error).toMatchObject({
      status: 404,
      code: 'FUSION_ERR_CASE_NOT_FOUND',
      endpoint: 'GET /api/case/0f6c2d9a-3b1e-4f5a-9c8d-7e6f5a4b3c2d',
    });
    expect((error as FusionClientError).requestId).toEqual(expect.any(String));
  });

  it('encodes guids into the path: nothing reaches another route', async () => {
    await expect(t.clients.user.case.retrieveCase('../auth/identities')).rejects.toMatchObject({ status: 400, code: 'FUSION_ERR_BAD_GUID' });
  });

  it('decodes with its caseClass: subclass defaults fill in, an answer that does not decode is FUSION_ERR_BAD_RESPONSE', async () => {
    const created = await t.clients.user.case.createCase({ name: 'plain' });
    const timeline = new FusionCaseAPIClient({ client: t.clients.user.client, caseClass: TimelineCase });
    const read = await timeline.retrieveCase(created.guid);
    expect(read).toBeInstanceOf(TimelineCase);
    expect(read.color).toBe('red');
    const strict = new FusionCaseAPIClient({ client: t.clients.user.client, caseClass: StrictCase });
    await expect(strict.retrieveCase(created.guid)).rejects.toMatchObject({ code: 'FUSION_ERR_BAD_RESPONSE', message: /StrictCase\.severity/ });
  });

  it('lists, deletes and attaches', async () => {
    const created = await t.clients.user.case.createCase({ name: 'listed' });
    expect((await t.clients.user.case.enumerateCases()).some((c) => c.equals(created))).toBe(true);
    const next = '11111111-2222-4333-8444-555555555555';
    const attached = await t.clients.service.case.attachCase(created.guid, next);
    expect(attached).toMatchObject({ guid: next, managed: true });
    await t.clients.user.case.deleteCase(next);
    expect((await t.clients.user.case.enumerateCases()).some((c) => c.guid === next)).toBe(false);
  });
});
