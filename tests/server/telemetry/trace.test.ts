import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import type { IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { request } from 'undici';
import { FusionAPI } from '../../../src/server/api.js';
import { FusionEventAPI } from '../../../src/server/event/impl.js';
import type { FusionHost } from '../../../src/server/host.js';
import type { KnexStorage } from '../../../src/server/storage/knex-storage.js';
import { createTestServer } from '../../../src/testing/index.js';
import type { TestServer } from '../../../src/testing/index.js';
import { describeStorage, freshStorage } from '../../helpers/storage.js';
import { silenceAudit, until } from '../event/helpers.js';
import { descendsFrom, parentOf, renderTrace, useInMemorySdk } from './otel-sdk.js';

/** Service B's webhook endpoint: a public route recording the headers it receives. */
class HookAPI extends FusionAPI {
  readonly name = 'hook';
  readonly received: IncomingHttpHeaders[] = [];

  setup(app: FastifyInstance, server: FusionHost): void {
    server.route(app, { method: 'POST', url: '/api/hook', operation: 'receive_hook', public: true }, ({ request }) => {
      this.received.push(request.headers);
      return undefined;
    });
  }
}

/** How docs/observability.md labels a span: name, then what tells it apart (route, category, SQL, outcome). */
function docLabel(span: ReadableSpan): string {
  const a = span.attributes;
  if (span.name === 'request') return `request ${String(a['http.request.method'])} ${String(a['http.route'])} → ${String(a['http.response.status_code'])}`;
  if (span.name.startsWith('db.')) return `${span.name} ${String(a['db.query.text']).replace(/\s+/g, ' ').slice(0, 60)}`;
  if (span.name === 'fusion.event.notify') return `${span.name} ${String(a['fusion.event.category'])}`;
  if (span.name === 'fusion.webhook.deliver') {
    return `${span.name} ${String(a['url.full']).replace(/:\d+\//, ':PORT/')} attempt ${String(a['fusion.webhook.attempt'])} → ${String(a['fusion.webhook.outcome'])}`;
  }
  return span.name;
}

/** The trace block of docs/observability.md (after its marker), one line per span. */
async function docTrace(): Promise<string[]> {
  const text = await readFile(join(process.cwd(), 'docs/observability.md'), 'utf8');
  const start = text.indexOf('<!-- trace: tests/server/telemetry/trace.test.ts -->');
  expect(start).toBeGreaterThanOrEqual(0);
  const block = /```text\n([\s\S]*?)```/.exec(text.slice(start));
  return block![1]!.trimEnd().split('\n');
}

const byName = (spans: readonly ReadableSpan[], name: string, attributes: Record<string, unknown> = {}): ReadableSpan[] =>
  spans.filter((span) => span.name === name && Object.entries(attributes).every(([key, value]) => span.attributes[key] === value));

describeStorage('a trace across a request, its event and the webhook it causes', (getStorage) => {
  silenceAudit();
  const recorder = useInMemorySdk();

  describe('services A (event API) and B (webhook receiver)', () => {
    let storageB: KnexStorage;
    let a: TestServer;
    let b: TestServer;
    const hook = new HookAPI();

    beforeAll(async () => {
      storageB = await freshStorage('pglite');
      b = await createTestServer({ storage: storageB, apis: [hook] });
      a = await createTestServer({
        storage: getStorage(),
        apis: [new FusionEventAPI()],
        config: { event: { webhook_allow: ['127.0.0.0/8'], backoff_base: 0.02, backoff_max: 0.1, webhook_poll_interval: 0.05 } },
      });
    }, 120_000);

    afterAll(async () => {
      await a?.close();
      await b?.close();
      await storageB?.close();
    });

    it('POST /api/case on A → fusion.event.notify → fusion.webhook.deliver → the request on B: one trace, traceparent on the wire and in the row', async () => {
      recorder.exporter.reset();
      const hookUrl = `${b.baseUrl}/api/hook`;
      const created = await a.clients.service.case.createCase({ name: 'traced', webhooks: [hookUrl] });
      await until(() => hook.received.length >= 1, 15_000, 'the webhook on B');
      const find = (): { deliver?: ReadableSpan; onB?: ReadableSpan } => {
        const spans = recorder.spans();
        return {
          deliver: byName(spans, 'fusion.webhook.deliver', { 'url.full': hookUrl })[0],
          onB: byName(spans, 'request', { 'http.route': '/api/hook' })[0],
        };
      };
      await until(() => find().deliver !== undefined && find().onB !== undefined, 15_000, 'the delivery span and B’s request span');
      const spans = recorder.spans();
      const [requestOnA] = byName(spans, 'request', { 'http.route': '/api/case', 'http.request.method': 'POST' });
      const [notify] = byName(spans, 'fusion.event.notify', { 'fusion.case.guid': created.guid, 'fusion.event.category': 'create_case' });
      const { deliver, onB } = find();
      expect(requestOnA).toBeDefined();
      expect(notify).toBeDefined();
      const traceId = requestOnA!.spanContext().traceId;
      for (const span of [notify!, deliver!, onB!]) expect(span.spanContext().traceId).toBe(traceId);
      expect(descendsFrom(notify!, requestOnA!, spans)).toBe(true);
      expect(parentOf(deliver!)).toBe(notify!.spanContext().spanId);
      expect(parentOf(onB!)).toBe(deliver!.spanContext().spanId);
      expect(deliver!.attributes).toMatchObject({ 'fusion.webhook.outcome': 'delivered', 'http.response.status_code': 200, 'fusion.webhook.attempt': 1 });
      expect(onB!.attributes['http.response.status_code']).toBe(200);
      // On the wire: B received A's delivery span as its parent.
      expect(hook.received[0]!.traceparent).toBe(`00-${traceId}-${deliver!.spanContext().spanId}-01`);
      // In the row: the notify span's context, so any instance's attempt continues the trace.
      const row = await a.server.storage.knex('fusion_webhook_delivery').where({ url: hookUrl }).first<{ trace_context: string }>('trace_context');
      expect(JSON.parse(row!.trace_context)).toEqual({ traceparent: `00-${traceId}-${notify!.spanContext().spanId}-01` });
      // Storage queries of the request are spans too (SQL text, no bindings), under the notify span for the event's rows.
      const queries = spans.filter((span) => span.name.startsWith('db.') && span.spanContext().traceId === traceId);
      const insertDelivery = queries.find((span) => String(span.attributes['db.query.text']).includes('INSERT INTO "fusion_webhook_delivery"'));
      expect(insertDelivery).toBeDefined();
      expect(descendsFrom(insertDelivery!, notify!, spans)).toBe(true);
      expect(insertDelivery!.attributes['db.system.name']).toBe('postgresql');
      expect(JSON.stringify(queries.map((span) => span.attributes))).not.toContain('"traced"');
      // docs/observability.md shows this trace: it must be the one the test exported.
      expect(renderTrace(spans, traceId, docLabel)).toEqual(await docTrace());
    });

    it('continues an incoming traceparent, and makes no spans for queries outside any span (the worker polling)', async () => {
      recorder.exporter.reset();
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      const parent = '00f067aa0ba902b7';
      const answer = await request(`${a.baseUrl}/api/info`, { headers: { traceparent: `00-${traceId}-${parent}-01` } });
      await answer.body.dump();
      await until(() => byName(recorder.spans(), 'request', { 'http.route': '/api/info' }).length === 1, 15_000, 'the request span');
      const [span] = byName(recorder.spans(), 'request', { 'http.route': '/api/info' });
      expect(span!.spanContext().traceId).toBe(traceId);
      expect(parentOf(span!)).toBe(parent);
      // The webhook worker kept polling (claimDue) meanwhile: none of it became a root span.
      expect(recorder.spans().filter((s) => s.name.startsWith('db.') && parentOf(s) === undefined)).toEqual([]);
    });
  });
});
