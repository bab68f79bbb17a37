import { afterAll, describe, expect, it } from '@jest/globals';
import type { FastifyInstance } from 'fastify';
import type { Event } from '../../src/concept/index.js';
import { createLogger } from '../../src/helper/logging.js';
import { createWebhookDispatcher } from '../../src/server/event/webhook/dispatcher.js';
import type { KnexStorage } from '../../src/server/storage/knex-storage.js';
import { expectDocShowsExampleFile } from '../helpers/doc-example-file.js';
import { freshStorage } from '../helpers/storage.js';
import { enqueueEvent, newSecret, testEvent, testWebhookConfig, waitFor } from '../server/event/webhook/harness.js';
import { auditService } from './webhook-receiver.example.js';



describe('docs/events.md, Webhooks', () => {
  let storage: KnexStorage | undefined;
  let app: FastifyInstance | undefined;

  afterAll(async () => {
    await app?.close();
    await storage?.close();
  });

  it('shows exactly the receiver example the tests run', async () => {
    await expectDocShowsExampleFile('docs/events.md', 'tests/client/webhook-receiver.example.ts');
  });

  it('receives what a Fusion service sends, once, even after a failed handling', async () => {
    const secret = newSecret();
    const recorded: Event[] = [];
    let failures = 1;
    app = await auditService(secret, async (event) => {
      if (failures-- > 0) throw new Error('audit database down');
      recorded.push(event);
    });
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    storage = await freshStorage('pglite');
    const dispatcher = createWebhookDispatcher(testWebhookConfig({ secrets: [secret], webhook: `${base}/hooks/fusion` }), {
      storage,
      logger: createLogger({ level: 'silent' }),
    });
    await dispatcher.start();
    try {
      const event = testEvent();
      await enqueueEvent(storage, dispatcher, event);
      await waitFor(() => recorded.length === 1, 10_000, 'the audit service to record the event');
      expect(recorded[0]!.equals(event)).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect(recorded).toHaveLength(1);
    } finally {
      await dispatcher.close();
    }
  });
});
