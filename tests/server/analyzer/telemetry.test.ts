// Spans around analyses (continuing the trace of the request that queued them) and task runs; the task-run and queue-depth series.
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { FusionAnalysisAPIClient } from '../../../src/client/api/analysis.js';
import { AnalyzerInfo } from '../../../src/concept/index.js';
import type { Analysis } from '../../../src/concept/index.js';
import { createLogger } from '../../../src/helper/logging.js';
import { withSpan } from '../../../src/helper/telemetry.js';
import type { FusionAnalyzer } from '../../../src/server/analyzer/analyzer.js';
import { FusionAnalysisAPI } from '../../../src/server/analyzer/impl.js';
import { FusionAnalyzerPool } from '../../../src/server/analyzer/pool.js';
import { parseConfig } from '../../../src/server/config.js';
import { FusionServer } from '../../../src/server/server.js';
import { defineTask } from '../../../src/server/task/task.js';
import { createTestServer } from '../../../src/testing/index.js';
import type { TestServer } from '../../../src/testing/index.js';
import { describeStorage } from '../../helpers/storage.js';
import { silenceAudit, until } from '../event/helpers.js';
import { descendsFrom, parentOf, useInMemorySdk } from '../telemetry/otel-sdk.js';

/** A promise and its resolve function. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

/** Holds the 'gated' analyzer inside process() until released (renewed by each test using it). */
let gate = { entered: deferred(), release: deferred() };

const analyzers: FusionAnalyzer[] = [
  { info: new AnalyzerInfo({ name: 'traced' }), process: () => withSpan('inner-work', {}, () => undefined) },
  { info: new AnalyzerInfo({ name: 'failing' }), process: async () => Promise.reject(new Error('bad input')) },
  {
    info: new AnalyzerInfo({ name: 'gated' }),
    process: async () => {
      gate.entered.resolve();
      await gate.release.promise;
    },
  },
];

/** The value of `name{labels}` in a Prometheus text exposition (undefined when absent). */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  const line = text.split('\n').find((row) => row.startsWith(`${name}{`) && wanted.every((pair) => row.includes(pair)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describeStorage('analysis and task telemetry', (getStorage) => {
  silenceAudit();
  const recorder = useInMemorySdk();
  const spans = (name: string): ReadableSpan[] => recorder.spans().filter((span) => span.name === name);

  describe('analyses', () => {
    let t: TestServer;
    let api: FusionAnalysisAPI;
    let client: FusionAnalysisAPIClient;
    let directory: string;

    beforeAll(async () => {
      directory = await mkdtemp(join(tmpdir(), 'fusion-analysis-otel-'));
      api = new FusionAnalysisAPI(analyzers);
      t = await createTestServer({ storage: getStorage(), apis: [api], config: { metrics: { enabled: true }, analyzers: { directory, lease: 5, poll_interval: 0.05 } } });
      client = new FusionAnalysisAPIClient({ client: t.clients.service.client });
    }, 60_000);
    afterAll(async () => {
      await t?.close();
      await rm(directory, { recursive: true, force: true });
    });

    async function runQueued(name: string, whileRunning: () => Promise<void> = async () => undefined): Promise<Analysis> {
      const pool = new FusionAnalyzerPool({ host: t.server, analyzer: analyzers.find((a) => a.info.name === name)!, config: api.config, workers: 1 });
      const finished = once(pool, 'finished', { signal: AbortSignal.timeout(30_000) });
      await pool.start();
      try {
        await whileRunning();
        return (await finished)[0] as Analysis;
      } finally {
        await pool.stop();
      }
    }

    /** fusion_analysis_queue_depth of `analyzer`, by status. */
    async function depths(analyzer: string): Promise<Record<string, number | undefined>> {
      const text = await t.server.metrics.text();
      return Object.fromEntries(['pending', 'queued', 'extracting', 'processing'].map((status) => [status, sample(text, 'fusion_analysis_queue_depth', { analyzer, status })]));
    }

    it('an analysis runs in a fusion.analysis.run span of the trace of the request that queued it; the queue depth is counted', async () => {
      const caseObj = await t.clients.service.case.createCase({ name: 'traced' });
      await client.queueAnalysis(caseObj.guid, 'traced');
      expect(await depths('traced')).toEqual({ pending: 0, queued: 1, extracting: 0, processing: 0 });
      expect(await depths('failing')).toEqual({ pending: 0, queued: 0, extracting: 0, processing: 0 });
      expect((await runQueued('traced')).status).toBe('success');
      expect(await depths('traced')).toEqual({ pending: 0, queued: 0, extracting: 0, processing: 0 });
      await until(() => spans('fusion.analysis.run').length === 1, 10_000, 'the analysis span');
      const [run] = spans('fusion.analysis.run');
      const queueing = recorder.spans().find((span) => span.name === 'request' && span.attributes['http.request.method'] === 'PUT' && String(span.attributes['http.route']).includes('/analysis/'));
      expect(queueing).toBeDefined();
      expect(run!.spanContext().traceId).toBe(queueing!.spanContext().traceId);
      expect(descendsFrom(run!, queueing!, recorder.spans())).toBe(true);
      expect(run!.kind).toBe(SpanKind.CONSUMER);
      expect(run!.attributes).toMatchObject({ 'fusion.analyzer': 'traced', 'fusion.case.guid': caseObj.guid, 'fusion.analysis.attempt': 1, 'fusion.analysis.outcome': 'success' });
      const [inner] = spans('inner-work');
      expect(parentOf(inner!)).toBe(run!.spanContext().spanId);
    });

    it('the queue depth shows a running analysis under its status (processing), not as waiting', async () => {
      gate = { entered: deferred(), release: deferred() };
      const caseObj = await t.clients.service.case.createCase({ name: 'gated' });
      await client.queueAnalysis(caseObj.guid, 'gated');
      const analysis = await runQueued('gated', async () => {
        await gate.entered.promise;
        try {
          expect(await depths('gated')).toEqual({ pending: 0, queued: 0, extracting: 0, processing: 1 });
        } finally {
          gate.release.resolve();
        }
      });
      expect(analysis.status).toBe('success');
      expect(await depths('gated')).toEqual({ pending: 0, queued: 0, extracting: 0, processing: 0 });
    });

    it('a failed analysis ends its span with status ERROR and the error', async () => {
      const caseObj = await t.clients.service.case.createCase({ name: 'fails' });
      await client.queueAnalysis(caseObj.guid, 'failing');
      expect((await runQueued('failing')).status).toBe('failure');
      await until(() => spans('fusion.analysis.run').some((span) => span.attributes['fusion.analyzer'] === 'failing'), 10_000, 'the failed span');
      const failed = spans('fusion.analysis.run').find((span) => span.attributes['fusion.analyzer'] === 'failing')!;
      expect(failed.attributes['fusion.analysis.outcome']).toBe('failure');
      expect(failed.status).toEqual({ code: SpanStatusCode.ERROR, message: 'bad input' });
    });
  });

  it('each task attempt is a root fusion.task.run span (failures recorded); fusion_task_runs_total counts them', async () => {
    const server = new FusionServer({ config: parseConfig({ metrics: { enabled: true } }), storage: getStorage(), logger: createLogger({ level: 'silent' }) });
    let attempts = 0;
    server.addTask(
      defineTask({
        name: 'otel-flaky',
        on: 'interval',
        interval: 60,
        immediate: true,
        retry: { limit: 1, delay: 0.01 },
        run: () => {
          if (++attempts === 1) throw new Error('first attempt fails');
        },
      }),
    );
    try {
      await withSpan('listening', {}, () => server.listen({ host: '127.0.0.1', port: 0 }));
      await until(() => spans('fusion.task.run').length >= 2, 10_000, 'two task spans');
      const text = await server.metrics.text();
      expect([sample(text, 'fusion_task_runs_total', { task: 'otel-flaky', outcome: 'failure' }), sample(text, 'fusion_task_runs_total', { task: 'otel-flaky', outcome: 'success' })]).toEqual([1, 1]);
    } finally {
      await server.close();
    }
    const [first, second] = spans('fusion.task.run');
    expect(first!.attributes).toEqual({ 'fusion.task.name': 'otel-flaky', 'fusion.task.trigger': 'interval', 'fusion.task.attempt': 1 });
    expect(first!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'first attempt fails' });
    expect(second!.attributes['fusion.task.attempt']).toBe(2);
    expect(second!.status.code).toBe(SpanStatusCode.UNSET);
    expect([parentOf(first!), parentOf(second!)]).toEqual([undefined, undefined]); // not children of the listen() span
  });
});
