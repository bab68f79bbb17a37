import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createWebhookReceiver } from '../../../../src/client/webhook-receiver.js';
import { Case } from '../../../../src/concept/index.js';
import { setAuditSink } from '../../../../src/helper/tracing.js';
import { endpointSecret } from '../../../../src/server/event/webhook/endpoint-secret.js';
import { FusionEventAPI } from '../../../../src/server/event/impl.js';
import type { KnexStorage } from '../../../../src/server/storage/knex-storage.js';
import { openStorage } from '../../../../src/server/storage/open-storage.js';
import { createTestServer } from '../../../../src/testing/index.js';
import type { TestServer } from '../../../../src/testing/index.js';
import { TEST_PG_URL, freshStorage, isCi, pgUnavailableReason } from '../../../helpers/storage.js';
import { newSecret, startReceiver, waitFor } from './harness.js';
import type { TestReceiver } from './harness.js';

const reason = pgUnavailableReason();
const describePg = reason === null || isCi() ? describe : describe.skip;
if (reason !== null && !isCi()) console.warn(`webhook event API test skipped: ${reason}`);

describePg('webhooks through the event API, two instances on one PostgreSQL', () => {
  const secret = newSecret();
  let storageA: KnexStorage;
  let storageB: KnexStorage;
  let global: TestReceiver;
  let perCase: TestReceiver;
  let a: TestServer;
  let b: TestServer;
  let eventsA: FusionEventAPI;

  beforeAll(async () => {
    setAuditSink({ info: () => undefined, warn: () => undefined });
    storageA = await freshStorage('postgres');
    storageB = await openStorage(TEST_PG_URL, { schema: storageA.schema! });
    global = await startReceiver();
    perCase = await startReceiver();
    const event = {
      webhook: global.url,
      api_key: 'notifier-token',
      secret,
      webhook_allow: ['127.0.0.0/8'],
      backoff_base: 0.02,
      backoff_max: 0.1,
      webhook_poll_interval: 0.05,
    };
    eventsA = new FusionEventAPI();
    a = await createTestServer({ storage: storageA, apis: [eventsA], config: { event } });
    b = await createTestServer({ storage: storageB, apis: [new FusionEventAPI()], config: { event } });
  }, 60_000);

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await global?.close();
    await perCase?.close();
    await storageB?.close();
    await storageA?.close();
    setAuditSink(undefined);
  });

  it('delivers a notified event once to the global webhook and once to the case webhook', async () => {
    const caseObj = new Case({ name: 'scanned', webhooks: [perCase.url, global.url] });
    await eventsA.notify('scan_done', caseObj, { findings: 3 });
    await waitFor(() => global.requests.length === 1 && perCase.requests.length === 1, 15_000, 'both receivers');
    // One webhook-id per event: each receiver (its own replay memory) sees it once.
    const verifier = () => createWebhookReceiver({ secret, apiKey: 'notifier-token' });
    expect(global.requests[0]!.headers['webhook-id']).toBe(perCase.requests[0]!.headers['webhook-id']);
    const received = verifier().verify(global.requests[0]!.headers, global.requests[0]!.body);
    expect(received).toMatchObject({ category: 'scan_done', ext: { findings: 3 } });
    expect(received.case.guid).toBe(caseObj.guid);
    // The case's own URL gets no token and a signature with its derived secret, not the global one.
    expect(perCase.requests[0]!.headers['x-fusion-notifier-token']).toBeUndefined();
    expect(() => verifier().verify(perCase.requests[0]!.headers, perCase.requests[0]!.body)).toThrow();
    const own = createWebhookReceiver({ secret: endpointSecret(secret, caseObj.guid, perCase.url) });
    expect(own.verify(perCase.requests[0]!.headers, perCase.requests[0]!.body).case.name).toBe('scanned');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect([global.requests.length, perCase.requests.length]).toEqual([1, 1]);
  });
});
