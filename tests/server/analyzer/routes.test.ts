// Every analysis route refuses bad input with a 4xx in the envelope naming what was wrong, and changes nothing.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { FusionAnalysisAPIClient } from '../../../src/client/api/analysis.js';
import type { Case } from '../../../src/concept/index.js';
import { AnalyzerInfo } from '../../../src/concept/index.js';
import type { FusionAnalyzer } from '../../../src/server/analyzer/analyzer.js';
import { ANALYSIS_TABLE } from '../../../src/server/analyzer/analysis-rows.js';
import { FusionAnalysisAPI } from '../../../src/server/analyzer/impl.js';
import { FusionEventAPI } from '../../../src/server/event/impl.js';
import { createTestServer } from '../../../src/testing/index.js';
import type { TestServer } from '../../../src/testing/index.js';
import { describeStorage } from '../../helpers/storage.js';
import { silenceAudit } from '../event/helpers.js';

const analyzers: FusionAnalyzer[] = [
  { info: new AnalyzerInfo({ name: 'echo' }), process: async () => undefined },
  { info: new AnalyzerInfo({ name: 'off' }), process: async () => undefined },
];
const UNKNOWN_CASE = '6f1c2d9a-3b1e-4f5a-9c8d-7e6f5a4b3c2d';

describeStorage('analysis routes: bad input', (getStorage) => {
  silenceAudit();
  let t: TestServer;
  let client: FusionAnalysisAPIClient;
  let open: Case;
  let closed: Case;

  beforeAll(async () => {
    t = await createTestServer({
      storage: getStorage(),
      apis: [new FusionEventAPI({ webhooks: false }), new FusionAnalysisAPI(analyzers)],
      config: { event: {}, analyzers: { off: { enabled: false } } },
    });
    client = new FusionAnalysisAPIClient({ client: t.clients.service.client });
    open = await t.clients.service.case.createCase({ name: 'open' });
    closed = await t.clients.service.case.createCase({ name: 'closed' });
    await t.clients.service.case.closeCase(closed.guid);
    await client.queueAnalysis(open.guid, 'echo', { priority: 'low' }); // no pool runs: it stays queued
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  /** The analysis rows and events, to show a refused request changed nothing. */
  async function snapshot(): Promise<unknown> {
    const { knex } = getStorage();
    return {
      analyses: await knex(ANALYSIS_TABLE).orderBy(['case_guid', 'analyzer']).select('case_guid', 'analyzer', 'status', 'priority', 'job_id', 'updated', 'attempts'),
      events: await knex('fusion_event').orderBy('id').select('id', 'category'),
    };
  }
  const refused = (status: number, code: string, message: RegExp): unknown => expect.objectContaining({ status, code, message: expect.stringMatching(message) });

  it('GET /api/config/analyzers: a bad page size is a 400 naming limit', async () => {
    const http = t.clients.service.client;
    for (const limit of ['0', 'ten', '-1']) await expect(http.get(`/api/config/analyzers?limit=${limit}`)).rejects.toEqual(refused(400, expect.any(String) as never, /limit/));
  });

  it('GET /api/case/:case_guid/analyses: bad guid 400, unknown case 404, bad limit 400, no credentials 401', async () => {
    const http = t.clients.service.client;
    await expect(http.get('/api/case/not-a-guid/analyses')).rejects.toEqual(refused(400, 'FUSION_ERR_BAD_GUID', /guid/));
    await expect(client.enumerateAnalyses(UNKNOWN_CASE)).rejects.toMatchObject({ status: 404 });
    await expect(http.get(`/api/case/${open.guid}/analyses?limit=0`)).rejects.toEqual(refused(400, expect.any(String) as never, /limit/));
    await expect(t.clients.anonymous.client.get(`/api/case/${open.guid}/analyses`)).rejects.toMatchObject({ status: 401 });
  });

  it('GET /api/case/:case_guid/analysis/:analyzer and its /log: bad guid 400, unknown case 404, unknown or disabled analyzer 404, not queued 404', async () => {
    const http = t.clients.service.client;
    for (const suffix of ['', '/log']) {
      await expect(http.get(`/api/case/not-a-guid/analysis/echo${suffix}`)).rejects.toEqual(refused(400, 'FUSION_ERR_BAD_GUID', /guid/));
      await expect(http.get(`/api/case/${UNKNOWN_CASE}/analysis/echo${suffix}`)).rejects.toMatchObject({ status: 404 });
      await expect(http.get(`/api/case/${open.guid}/analysis/nope${suffix}`)).rejects.toEqual(refused(404, 'FUSION_ERR_ANALYZER_UNKNOWN', /"nope".*enabled analyzers: echo/));
      await expect(http.get(`/api/case/${open.guid}/analysis/${encodeURIComponent('../echo')}${suffix}`)).rejects.toMatchObject({ status: 404 });
      await expect(http.get(`/api/case/${closed.guid}/analysis/echo${suffix}`)).rejects.toEqual(refused(404, 'FUSION_ERR_ANALYSIS_NOT_FOUND', /no echo analysis/));
    }
    await expect(client.retrieveAnalysis(open.guid, 'off')).rejects.toMatchObject({ status: 404 });
    expect(await client.retrieveLog(open.guid, 'echo')).toBe(''); // queued, not started: no log yet, not an error
  });

  it('PUT /api/case/:case_guid/analysis/:analyzer: every bad request is a 4xx and changes nothing', async () => {
    const http = t.clients.service.client;
    const before = await snapshot();
    await expect(http.put(`/api/case/not-a-guid/analysis/echo`, {})).rejects.toEqual(refused(400, 'FUSION_ERR_BAD_GUID', /guid/));
    await expect(http.put(`/api/case/${UNKNOWN_CASE}/analysis/echo`, {})).rejects.toMatchObject({ status: 404 });
    await expect(client.queueAnalysis(open.guid, 'nope')).rejects.toEqual(refused(404, 'FUSION_ERR_ANALYZER_UNKNOWN', /"nope"/));
    await expect(client.queueAnalysis(open.guid, 'off')).rejects.toEqual(refused(404, 'FUSION_ERR_ANALYZER_UNKNOWN', /"off"/));
    await expect(http.put(`/api/case/${open.guid}/analysis/echo`, { priority: 'urgent' })).rejects.toEqual(refused(400, expect.any(String) as never, /priority/));
    await expect(http.put(`/api/case/${open.guid}/analysis/echo`, { colour: 'red' })).rejects.toEqual(refused(400, expect.any(String) as never, /colour/));
    await expect(http.put(`/api/case/${open.guid}/analysis/echo`, ['high'])).rejects.toMatchObject({ status: 400 });
    await expect(http.put(`/api/case/${open.guid}/analysis/echo`, 'high')).rejects.toMatchObject({ status: 400 });
    await expect(client.queueAnalysis(closed.guid, 'echo')).rejects.toEqual(refused(409, 'FUSION_ERR_CASE_CLOSED', /closed/));
    await expect(client.queueAnalysis(open.guid, 'echo', { priority: 'high' })).rejects.toEqual(refused(409, 'FUSION_ERR_ANALYSIS_TRANSITION', /queued already/));
    await expect(t.clients.anonymous.client.put(`/api/case/${open.guid}/analysis/echo`, {})).rejects.toMatchObject({ status: 401 });
    expect(await snapshot()).toEqual(before);
    expect((await client.retrieveAnalysis(open.guid, 'echo')).toJSON()).toMatchObject({ status: 'queued', priority: 'low' });
  });
});
