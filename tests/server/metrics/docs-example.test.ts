import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { KnexStorage } from '../../../src/server/storage/knex-storage.js';
import { createTestServer } from '../../../src/testing/index.js';
import type { TestServer } from '../../../src/testing/index.js';
import { expectDocShowsExampleFile } from '../../helpers/doc-example-file.js';
import { freshStorage } from '../../helpers/storage.js';
import { silenceAudit } from '../event/helpers.js';
import { ScanAPI } from './scan-metrics.example.js';
import { sample, scrape } from './scrape.js';

describe('docs/observability.md: series of your own', () => {
  silenceAudit();
  let storage: KnexStorage;
  let t: TestServer;
  const scan = new ScanAPI();

  beforeAll(async () => {
    storage = await freshStorage('pglite');
    t = await createTestServer({ storage, apis: [scan], config: { metrics: { enabled: true } } });
  }, 120_000);

  afterAll(async () => {
    await t?.close();
    await storage?.close();
  });

  it('shows the example file this test runs', async () => {
    await expectDocShowsExampleFile('docs/observability.md', 'tests/server/metrics/scan-metrics.example.ts');
  });

  it('serves the API’s own counter and gauge next to the framework’s series', async () => {
    const before = await scrape(t.baseUrl, { 'x-fusion-api-token': t.apiKey });
    expect(sample(before.text, 'scan_queue_depth')).toBe(0);
    await t.clients.service.client.post('/api/scan', {});
    await t.clients.service.client.post('/api/scan', {});
    const after = await scrape(t.baseUrl, { 'x-fusion-api-token': t.apiKey });
    expect(sample(after.text, 'scan_requests_total', { result: 'queued' })).toBe(2);
    expect(sample(after.text, 'scan_queue_depth')).toBe(2);
    expect(sample(after.text, 'fusion_http_request_duration_seconds_count', { route: '/api/scan', status_code: '200' })).toBe(2);
  });
});
