import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createWebhookDispatcher } from '../../../../src/server/event/webhook/dispatcher.js';
import type { KnexStorage } from '../../../../src/server/storage/knex-storage.js';
import { openStorage } from '../../../../src/server/storage/open-storage.js';
import { TEST_PG_URL, freshStorage, isCi, pgUnavailableReason } from '../../../helpers/storage.js';
import { enqueueEvent, recordingLogger, startReceiver, testEvent, testWebhookConfig, waitFor } from './harness.js';
import type { TestReceiver } from './harness.js';

const reason = pgUnavailableReason();
const describePg = reason === null || isCi() ? describe : describe.skip;
if (reason !== null && !isCi()) console.warn(`webhook multi-instance test skipped: ${reason}`);

describePg('two dispatchers on one PostgreSQL', () => {
  let a: KnexStorage;
  let b: KnexStorage;
  let hook: TestReceiver;

  beforeAll(async () => {
    a = await freshStorage('postgres');
    b = await openStorage(TEST_PG_URL, { schema: a.schema! });
    // Slow answers keep attempts in flight, so both instances claim at once.
    hook = await startReceiver(() => 200);
    hook.delayMs = 20;
  }, 60_000);

  afterAll(async () => {
    await hook?.close();
    await b?.close();
    await a?.close();
  });

  it('deliver each event exactly once between them', async () => {
    const logA = recordingLogger();
    const logB = recordingLogger();
    const config = testWebhookConfig({ concurrency: 3 });
    const first = createWebhookDispatcher(config, { storage: a, logger: logA.logger });
    const second = createWebhookDispatcher(config, { storage: b, logger: logB.logger });
    const count = 60;
    for (let i = 0; i < count; i += 1) await enqueueEvent(i % 2 ? a : b, i % 2 ? first : second, testEvent([hook.url]));
    await Promise.all([first.start(), second.start()]);
    try {
      await waitFor(async () => {
        const [{ n }] = await a.knex('fusion_webhook_delivery').where({ status: 'delivered' }).count<{ n: string }[]>({ n: '*' });
        return Number(n) === count;
      }, 30_000, 'all delivered');
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
    const ids = hook.requests.map((r) => String(r.headers['webhook-id']));
    expect(ids).toHaveLength(count);
    expect(new Set(ids).size).toBe(count);
    const delivered = (lines: Record<string, unknown>[]): number => lines.filter((l) => l.msg === 'webhook delivered').length;
    expect(delivered(logA.lines) + delivered(logB.lines)).toBe(count);
    expect(delivered(logA.lines)).toBeGreaterThan(0);
    expect(delivered(logB.lines)).toBeGreaterThan(0);
  }, 60_000);
});
