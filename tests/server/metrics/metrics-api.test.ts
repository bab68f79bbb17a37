import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request } from 'undici';
import { ConfigError } from '../../../src/helper/config.js';
import { createTestServer } from '../../../src/testing/index.js';
import type { TestServer } from '../../../src/testing/index.js';
import type { KnexStorage } from '../../../src/server/storage/knex-storage.js';
import { describeStorage, freshStorage } from '../../helpers/storage.js';
import { SseProbe, createSocCase, serviceHeaders, silenceAudit, startEventServer, until, userHeaders } from '../event/helpers.js';
import type { EventServer } from '../event/helpers.js';
import { startReceiver } from '../event/webhook/harness.js';
import type { TestReceiver } from '../event/webhook/harness.js';
import { sample, scrape } from './scrape.js';

const DURATION = 'fusion_http_request_duration_seconds';
const infoCount = (text: string): number => sample(text, `${DURATION}_count`, { method: 'GET', route: '/api/info', status_code: '200' }) ?? 0;

describeStorage('GET /api/metrics with metrics.enabled', (getStorage) => {
  // A nested block, so its afterAll closes the server before describeStorage closes the storage.
  describe('one server', () => {
    silenceAudit();
    let t: EventServer;
    let receiver: TestReceiver;

    beforeAll(async () => {
      receiver = await startReceiver();
      t = await startEventServer(getStorage(), {
        api: { webhooks: true },
        config: {
          metrics: { enabled: true },
          event: { webhook_allow: ['127.0.0.0/8'], timeout: 1, backoff_base: 0.02, backoff_max: 0.1, webhook_poll_interval: 0.05 },
        },
      });
    }, 120_000);

    afterAll(async () => {
      await t?.close();
      await receiver?.close();
    });

    it('serves the text exposition to an API key client; request series move by route and status', async () => {
      const before = await scrape(t.baseUrl, serviceHeaders(t));
      expect(before.status).toBe(200);
      expect(before.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(before.text).toContain(`# TYPE ${DURATION} histogram`);
      for (let i = 0; i < 3; i++) expect((await request(`${t.baseUrl}/api/info`)).statusCode).toBe(200);
      await (await request(`${t.baseUrl}/api/no-such-route`)).body.dump();
      const after = await scrape(t.baseUrl, serviceHeaders(t));
      expect(infoCount(after.text) - infoCount(before.text)).toBe(3);
      expect(sample(after.text, `${DURATION}_bucket`, { route: '/api/info', status_code: '200', le: '+Inf' })).toBe(infoCount(after.text));
      expect(sample(after.text, `${DURATION}_sum`, { route: '/api/info', status_code: '200' })).toBeGreaterThan(0);
      expect(sample(after.text, `${DURATION}_count`, { route: 'unmatched', status_code: '404' })).toBeGreaterThanOrEqual(1);
      // The first scrape is counted too, under its own route.
      expect(sample(after.text, `${DURATION}_count`, { route: '/api/metrics', status_code: '200' })).toBeGreaterThanOrEqual(1);
    });

    it('refuses a caller without credentials (401) or with a wrong key (401), in the envelope', async () => {
      const anonymous = await scrape(t.baseUrl);
      expect(anonymous.status).toBe(401);
      expect(JSON.parse(anonymous.text)).toMatchObject({ status: 401, code: 'FUSION_ERR_UNAUTHORIZED' });
      const wrong = await scrape(t.baseUrl, { 'x-fusion-api-token': 'not-the-key-not-the-key-not-the-key' });
      expect(wrong.status).toBe(401);
      expect(JSON.parse(wrong.text)).toMatchObject({ code: 'FUSION_ERR_UNAUTHORIZED' });
      // A logged-in user may scrape too (protected like any route, not API-key only).
      expect((await scrape(t.baseUrl, await userHeaders(t, 'alice'))).status).toBe(200);
    });

    it('counts open SSE connections of this instance', async () => {
      const c = await createSocCase(t, 'sse-metrics');
      const connections = async (): Promise<number | undefined> => sample((await scrape(t.baseUrl, serviceHeaders(t))).text, 'fusion_sse_connections');
      expect(await connections()).toBe(0);
      const probe = await SseProbe.open(t.baseUrl, `/api/events/case/${c.guid}`, await userHeaders(t, 'alice'));
      try {
        await probe.waitForCount(1);
        expect(await connections()).toBe(1);
      } finally {
        await probe.close();
      }
      await until(async () => (await connections()) === 0, 15_000, 'the stream to be counted closed');
    });

    it('shows the webhook backlog while an attempt is in flight, then attempts by outcome and deliveries by status', async () => {
      const series = async (): Promise<string> => (await scrape(t.baseUrl, serviceHeaders(t))).text;
      const start = await series();
      const delivered0 = sample(start, 'fusion_webhook_deliveries', { status: 'delivered' }) ?? 0;
      const retries0 = sample(start, 'fusion_webhook_attempts_total', { outcome: 'retry' }) ?? 0;
      // The first attempt hangs (cut by the 1 s timeout: a retry), the second is acknowledged.
      receiver.answer = (index) => (index === 0 ? 'hang' : 200);
      await t.clients.service.case.createCase({ name: 'hooked', acs: ['soc'], webhooks: [receiver.url] });
      await until(() => receiver.requests.length >= 1, 15_000, 'the first attempt');
      expect(sample(await series(), 'fusion_webhook_deliveries', { status: 'pending' })).toBeGreaterThanOrEqual(1);
      await until(() => receiver.requests.some((r) => r.status === 200), 15_000, 'the acknowledged attempt');
      await until(async () => (sample(await series(), 'fusion_webhook_deliveries', { status: 'delivered' }) ?? 0) > delivered0, 15_000, 'the delivered row');
      const end = await series();
      expect(sample(end, 'fusion_webhook_attempts_total', { outcome: 'retry' })).toBeGreaterThan(retries0);
      expect(sample(end, 'fusion_webhook_attempts_total', { outcome: 'delivered' })).toBeGreaterThanOrEqual(1);
      expect(sample(end, 'fusion_webhook_deliveries', { status: 'pending' })).toBe(0);
    });

    it('counts disabled endpoints (an endpoint answering 410 Gone)', async () => {
      const gone = await startReceiver(() => 410);
      try {
        const before = sample((await scrape(t.baseUrl, serviceHeaders(t))).text, 'fusion_webhook_disabled_endpoints') ?? 0;
        await t.clients.service.case.createCase({ name: 'gone', acs: ['soc'], webhooks: [gone.url] });
        await until(async () => sample((await scrape(t.baseUrl, serviceHeaders(t))).text, 'fusion_webhook_disabled_endpoints') === before + 1, 15_000, 'the disabled endpoint');
        expect(sample((await scrape(t.baseUrl, serviceHeaders(t))).text, 'fusion_webhook_attempts_total', { outcome: 'gone' })).toBeGreaterThanOrEqual(1);
      } finally {
        await gone.close();
      }
    });

    it('keeps a second server in the same process on its own registry', async () => {
      const other = await createTestServer({ storage: getStorage(), config: { metrics: { enabled: true } } });
      try {
        const mine = infoCount((await scrape(t.baseUrl, serviceHeaders(t))).text);
        await (await request(`${other.baseUrl}/api/info`)).body.dump();
        expect(infoCount((await scrape(other.baseUrl, { 'x-fusion-api-token': other.apiKey })).text)).toBe(1);
        expect(infoCount((await scrape(t.baseUrl, serviceHeaders(t))).text)).toBe(mine);
      } finally {
        await other.close();
      }
    });
  });
});

describe('GET /api/metrics off', () => {
  silenceAudit();
  const servers: TestServer[] = [];
  let storage: KnexStorage;
  beforeAll(async () => {
    storage = await freshStorage('pglite');
  }, 120_000);
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.close()));
    await storage?.close();
  });

  it('is 404 without a metrics section and with enabled: false, and records nothing', async () => {
    for (const config of [{}, { metrics: { enabled: false } }, { metrics: {} }]) {
      const server = await createTestServer({ storage, config });
      servers.push(server);
      const answer = await scrape(server.baseUrl, { 'x-fusion-api-token': server.apiKey });
      expect(answer.status).toBe(404);
      expect(JSON.parse(answer.text)).toMatchObject({ status: 404 });
      expect(server.server.metrics.enabled).toBe(false);
      expect(await server.server.metrics.text()).not.toContain(DURATION);
    }
  });

  it('refuses a bad key of the metrics or telemetry section at start, naming it', async () => {
    await expect(createTestServer({ config: { metrics: { enabeld: true } } })).rejects.toThrow(ConfigError);
    await expect(createTestServer({ config: { metrics: { enabeld: true } } })).rejects.toThrow(/metrics\.enabeld/);
    await expect(createTestServer({ config: { metrics: { enabled: 'yes' } } })).rejects.toThrow(/metrics\.enabled/);
    await expect(createTestServer({ config: { telemetry: { request_spans: 3 } } })).rejects.toThrow(/telemetry\.request_spans/);
  });
});
