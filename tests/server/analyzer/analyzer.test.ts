import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { Case } from '../../../src/concept/index.js';
import { Analysis, AnalyzerInfo } from '../../../src/concept/index.js';
import type { FusionAnalyzer } from '../../../src/server/analyzer/analyzer.js';
import { ANALYSIS_TABLE } from '../../../src/server/analyzer/analysis-rows.js';
import { analyzerQueue } from '../../../src/server/analyzer/queue.js';
import { setAuditSink } from '../../../src/helper/tracing.js';
import { acquireBoss } from '../../../src/server/task/boss.js';
import { describeStorage } from '../../helpers/storage.js';
import { analysisEvents, finished, useAnalysisSuite } from './pool-helpers.js';

const order: string[] = [];
const analyzers: FusionAnalyzer[] = [
  {
    info: new AnalyzerInfo({ name: 'echo', version: '1.0.0', tags: ['test'] }),
    async process(analysis, context) {
      await context.log(`echo for ${analysis.case_guid}`);
      await writeFile(join(context.outputDirectory, 'result.txt'), `case ${context.case?.name}\n`);
    },
  },
  { info: new AnalyzerInfo({ name: 'order' }), process: async (analysis) => void order.push(analysis.priority) },
  { info: new AnalyzerInfo({ name: 'sleeper' }), process: async (_analysis, context) => void (await context.run(['sleep', '30'])) },
  { info: new AnalyzerInfo({ name: 'broken' }), process: async () => Promise.reject(new Error('the input is corrupt')) },
  { info: new AnalyzerInfo({ name: 'rollback' }), process: async () => undefined },
  { info: new AnalyzerInfo({ name: 'off' }), process: async () => undefined },
];

beforeAll(() => setAuditSink({ info: () => undefined, warn: () => undefined }));
afterAll(() => setAuditSink(undefined));

describeStorage('analyzer runtime', (getStorage) => {
  const s = useAnalysisSuite(getStorage, analyzers, { lease: 2, poll_interval: 0.1, echo: { workers: 2 }, sleeper: { timeout: 1 }, off: { enabled: false } });
  async function newCase(name = 'analysed'): Promise<Case> {
    return s.t.clients.service.case.createCase({ name });
  }
  const categories = (caseGuid: string): Promise<string[]> => analysisEvents(getStorage().knex, caseGuid);

  it('lists the enabled analyzers', async () => {
    const listed = await s.client.enumerateAnalyzers();
    expect(listed.map((info) => info.name)).toEqual(['echo', 'order', 'sleeper', 'broken', 'rollback']);
    expect(listed[0]!.toJSON()).toEqual({ name: 'echo', version: '1.0.0', tags: ['test'] });
  });

  it('queues, runs and zips an analysis; every transition has its event; the log is served', async () => {
    const caseObj = await newCase('echoed');
    const queued = await s.client.queueAnalysis(caseObj.guid, 'echo', { priority: 'high' });
    expect(queued.toJSON()).toMatchObject({ case_guid: caseObj.guid, analyzer: 'echo', status: 'queued', priority: 'high' });
    const pool = s.startPool('echo');
    const done = finished(pool);
    await pool.start();
    const [analysis] = await done;
    expect(analysis!.status).toBe('success');
    const stored = await s.client.retrieveAnalysis(caseObj.guid, 'echo');
    expect(stored.toJSON()).toMatchObject({ status: 'success', error: null });
    expect(stored.started).not.toBeNull();
    expect(stored.finished).not.toBeNull();
    expect((await s.client.enumerateAnalyses(caseObj.guid)).map((a) => a.analyzer)).toEqual(['echo']);
    expect(existsSync(join(s.directory, caseObj.guid, 'echo', 'output.zip'))).toBe(true);
    expect(await s.client.retrieveLog(caseObj.guid, 'echo')).toContain(`echo for ${caseObj.guid}`);
    expect(await categories(caseObj.guid)).toEqual(['analysis_pending', 'analysis_queued', 'analysis_extracting', 'analysis_processing', 'analysis_success']);
  });

  it('runs the queue high, medium, low, then oldest first', async () => {
    order.length = 0;
    for (const priority of ['low', 'high', 'medium', 'high'] as const) await s.client.queueAnalysis((await newCase()).guid, 'order', { priority });
    const pool = s.startPool('order', 1);
    const done = finished(pool, 4);
    await pool.start();
    await done;
    expect(order).toEqual(['high', 'high', 'medium', 'low']);
  });

  it('refuses illegal transitions: queueing an analysis that is queued already (409), pending → success', async () => {
    const caseObj = await newCase();
    await s.client.queueAnalysis(caseObj.guid, 'rollback');
    await expect(s.client.queueAnalysis(caseObj.guid, 'rollback')).rejects.toMatchObject({ status: 409, code: 'FUSION_ERR_ANALYSIS_TRANSITION' });
    const analysis = new Analysis({ case_guid: caseObj.guid, analyzer: 'x' });
    expect(() => analysis.transition('success')).toThrow(/cannot go from pending to success \(allowed: queued\)/);
    expect(() => analysis.transition('queued').transition('processing')).toThrow(/from queued to processing/);
  });

  it('answers bad requests with a clear 4xx and changes nothing', async () => {
    const caseObj = await newCase();
    const http = s.t.clients.service.client;
    await expect(s.client.queueAnalysis(caseObj.guid, 'nope')).rejects.toMatchObject({ status: 404, code: 'FUSION_ERR_ANALYZER_UNKNOWN' });
    await expect(s.client.queueAnalysis(caseObj.guid, 'off')).rejects.toMatchObject({ status: 404, code: 'FUSION_ERR_ANALYZER_UNKNOWN' });
    await expect(http.put(`/api/case/${caseObj.guid}/analysis/echo`, { priority: 'urgent' })).rejects.toMatchObject({ status: 400 });
    await expect(http.put(`/api/case/${caseObj.guid}/analysis/echo`, { colour: 'red' })).rejects.toMatchObject({ status: 400 });
    await expect(http.get('/api/case/not-a-guid/analyses')).rejects.toMatchObject({ status: 400, code: 'FUSION_ERR_BAD_GUID' });
    await expect(s.client.enumerateAnalyses('6f1c2d9a-3b1e-4f5a-9c8d-7e6f5a4b3c2d')).rejects.toMatchObject({ status: 404 });
    await expect(s.client.retrieveAnalysis(caseObj.guid, 'echo')).rejects.toMatchObject({ status: 404, code: 'FUSION_ERR_ANALYSIS_NOT_FOUND' });
    await expect(s.client.retrieveLog(caseObj.guid, 'echo')).rejects.toMatchObject({ status: 404, code: 'FUSION_ERR_ANALYSIS_NOT_FOUND' });
    await s.t.clients.service.case.closeCase(caseObj.guid);
    await expect(s.client.queueAnalysis(caseObj.guid, 'echo')).rejects.toMatchObject({ status: 409, code: 'FUSION_ERR_CASE_CLOSED' });
    expect(await s.client.enumerateAnalyses(caseObj.guid)).toEqual([]);
    await expect(s.t.clients.anonymous.client.get(`/api/case/${caseObj.guid}/analyses`)).rejects.toMatchObject({ status: 401 });
  });

  it('a failing analysis ends in failure with its message; a subprocess timeout fails it with the log kept', async () => {
    const broken = await newCase();
    await s.client.queueAnalysis(broken.guid, 'broken');
    const brokenPool = s.startPool('broken');
    const brokenDone = finished(brokenPool);
    await brokenPool.start();
    expect((await brokenDone)[0]!.toJSON()).toMatchObject({ status: 'failure', error: 'the input is corrupt' });

    const slow = await newCase();
    await s.client.queueAnalysis(slow.guid, 'sleeper');
    const pool = s.startPool('sleeper');
    const done = finished(pool);
    await pool.start();
    const [analysis] = await done;
    expect(analysis!.status).toBe('failure');
    expect(analysis!.error).toMatch(/did not finish within|timed out/);
    const log = await s.client.retrieveLog(slow.guid, 'sleeper');
    expect(log).toContain('$ sleep 30');
    expect(log).toContain('failure:');
    expect(await readFile(join(s.directory, slow.guid, 'sleeper', 'analysis.log'), 'utf8')).toBe(log);
  });

  it('an analysis queued inside a rolled-back transaction does not exist (no row, no job, no event)', async () => {
    const caseObj = await newCase();
    const storage = getStorage();
    await expect(
      storage.transaction(async (tx) => {
        await s.api.queue(caseObj, 'rollback', { trx: tx.knex as never });
        expect(await tx.knex(ANALYSIS_TABLE).where({ case_guid: caseObj.guid }).count<{ count: string }[]>('* as count')).toEqual([{ count: expect.anything() }]);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(await storage.knex(ANALYSIS_TABLE).where({ case_guid: caseObj.guid })).toEqual([]);
    expect(await categories(caseObj.guid)).toEqual([]);
    const lease = await acquireBoss(storage);
    try {
      const jobs = await lease.boss.fetch<{ case_guid: string }>(analyzerQueue('rollback'), { batchSize: 100 });
      expect(jobs.filter((job) => job.data.case_guid === caseObj.guid)).toEqual([]);
    } finally {
      await lease.release();
    }
  });

  it('work whose worker was lost goes back to the queue, then fails once its retries are used', async () => {
    const caseObj = await newCase();
    await s.client.queueAnalysis(caseObj.guid, 'echo');
    const storage = getStorage();
    const lost = { status: 'processing', owner: 'dead-worker', lease_until: new Date(Date.now() - 1000) };
    await storage.knex(ANALYSIS_TABLE).where({ case_guid: caseObj.guid, analyzer: 'echo' }).update({ ...lost, attempts: 1 });
    const pool = s.startPool('echo');
    const recovered = once(pool, 'recovered', { signal: AbortSignal.timeout(30_000) });
    const done = finished(pool);
    await pool.start();
    expect(await recovered).toEqual([1, 0]);
    expect((await done)[0]!.status).toBe('success');
    await pool.stop();

    await s.client.queueAnalysis(caseObj.guid, 'echo');
    await storage.knex(ANALYSIS_TABLE).where({ case_guid: caseObj.guid, analyzer: 'echo' }).update({ ...lost, attempts: 2 });
    const again = s.startPool('echo');
    const failed = once(again, 'recovered', { signal: AbortSignal.timeout(30_000) });
    await again.start();
    expect(await failed).toEqual([0, 1]);
    expect((await s.client.retrieveAnalysis(caseObj.guid, 'echo')).error).toMatch(/worker was lost 2 time/);
  });

  // Last: the analyses it queues are never run (no pool starts after it).
  it('pages the analyzers (by name) and the analyses of a case (by analyzer)', async () => {
    const pages: string[][] = [];
    for await (const page of s.client.analyzerPages({ limit: 2 })) pages.push(page.map((info) => info.name));
    expect(pages).toEqual([['broken', 'echo'], ['order', 'rollback'], ['sleeper']]);
    const caseObj = await newCase('paged analyses');
    for (const name of ['rollback', 'broken', 'echo']) await s.client.queueAnalysis(caseObj.guid, name);
    const analyses: string[][] = [];
    for await (const page of s.client.analysisPages(caseObj.guid, { limit: 2 })) analyses.push(page.map((a) => a.analyzer));
    expect(analyses).toEqual([['broken', 'echo'], ['rollback']]);
    expect(analyses.flat()).toEqual((await s.client.enumerateAnalyses(caseObj.guid)).map((a) => a.analyzer));
  });
});
