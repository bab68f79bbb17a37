import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FusionClientError } from '../../../src/client/errors.js';
import type { TestServer } from '../../../src/testing/index.js';
import { freshStorage } from '../../helpers/storage.js';
import type { KnexStorage } from '../../../src/server/storage/knex-storage.js';
import { silenceAudit, startCaseServer, tag } from './helpers.js';

silenceAudit();

let storage: KnexStorage;
let withEvents: TestServer;
let withoutEvents: TestServer;

beforeAll(async () => {
  storage = await freshStorage('pglite');
  withEvents = await startCaseServer(storage, { config: { event: { webhook_allow: ['hooks.internal.test'] } } });
  withoutEvents = await startCaseServer(storage);
}, 60_000);

afterAll(async () => {
  await withEvents?.close();
  await withoutEvents?.close();
  await storage?.close();
});

async function refusal(promise: Promise<unknown>): Promise<FusionClientError> {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(FusionClientError);
  return error as FusionClientError;
}

describe('case.webhooks are checked when a case is written (event API mounted)', () => {
  it('refuses a URL that is not http(s), and stores nothing', async () => {
    const name = `hook-${tag()}`;
    const error = await refusal(withEvents.clients.user.case.createCase({ name, acs: ['soc'], webhooks: ['ftp://example.com/x'] }));
    expect([error.status, error.code]).toEqual([400, 'FUSION_ERR_WEBHOOK_URL']);
    expect(error.message).toContain('ftp:');
    const names = (await withEvents.clients.service.case.enumerateCases()).map((c) => c.name);
    expect(names).not.toContain(name);
  });

  it('refuses a loopback address unless event.webhook_allow lists it', async () => {
    const error = await refusal(withEvents.clients.user.case.createCase({ name: `hook-${tag()}`, acs: ['soc'], webhooks: ['http://127.0.0.1:9/hook'] }));
    expect([error.status, error.code]).toEqual([400, 'FUSION_ERR_WEBHOOK_REFUSED']);
    const allowed = await withEvents.clients.user.case.createCase({ name: `hook-${tag()}`, acs: ['soc'], webhooks: ['https://hooks.internal.test/h'] });
    expect(allowed.webhooks).toEqual(['https://hooks.internal.test/h']);
  });

  it('checks webhooks on update too, leaving the case unchanged on refusal', async () => {
    const created = await withEvents.clients.user.case.createCase({ name: `hook-${tag()}`, acs: ['soc'] });
    const error = await refusal(withEvents.clients.user.case.updateCase(created.guid, { webhooks: ['http://user:pw@example.com/'] }));
    expect([error.status, error.code]).toEqual([400, 'FUSION_ERR_WEBHOOK_URL']);
    expect((await withEvents.clients.user.case.retrieveCase(created.guid)).webhooks).toEqual([]);
  });

  it('without an event API nothing is delivered, so URLs are stored as given', async () => {
    const created = await withoutEvents.clients.user.case.createCase({ name: `hook-${tag()}`, acs: ['soc'], webhooks: ['http://127.0.0.1:9/hook'] });
    expect(created.webhooks).toEqual(['http://127.0.0.1:9/hook']);
  });
});
