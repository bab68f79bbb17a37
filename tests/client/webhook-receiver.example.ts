/** docs/events.md, Webhooks: a second service receiving Fusion events by webhook. */
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { createWebhookReceiver } from '../../src/client/webhook-receiver.js';
import type { Event } from '../../src/concept/index.js';

/** An audit service: every verified event goes to `record`, once per webhook-id. */
export async function auditService(secret: string, record: (event: Event) => Promise<void>): Promise<FastifyInstance> {
  const app = Fastify();
  const receiver = createWebhookReceiver({ secret, tolerance: 300 });
  await app.register(receiver.plugin, {
    prefix: '/hooks',
    path: '/fusion',
    handler: async (event, { webhookId }) => {
      app.log.info({ webhookId, category: event.category, caseGuid: event.case.guid }, 'event received');
      await record(event); // a throw answers 500: the sender retries later
    },
  });
  return app;
}
