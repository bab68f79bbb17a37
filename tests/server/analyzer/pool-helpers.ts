/** The analyzer tests' server and pools, waiting on pools, and the analysis events of a case. */
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll } from '@jest/globals';
import type { Knex } from 'knex';
import { FusionAnalysisAPIClient } from '../../../src/client/api/analysis.js';
import type { Analysis } from '../../../src/concept/index.js';
import type { FusionAnalyzer } from '../../../src/server/analyzer/analyzer.js';
import { FusionAnalysisAPI } from '../../../src/server/analyzer/impl.js';
import { FusionAnalyzerPool } from '../../../src/server/analyzer/pool.js';
import { FusionEventAPI } from '../../../src/server/event/impl.js';
import type { KnexStorage } from '../../../src/server/storage/knex-storage.js';
import { createTestServer } from '../../../src/testing/index.js';
import type { TestServer } from '../../../src/testing/index.js';

/** The next `count` analyses `pool` finishes (success or failure), in order; rejects after `ms`. */
export async function finished(pool: FusionAnalyzerPool, count = 1, ms = 60_000): Promise<Analysis[]> {
  const done: Analysis[] = [];
  const stop = AbortSignal.timeout(ms);
  while (done.length < count) done.push((await once(pool, 'finished', { signal: stop }))[0] as Analysis);
  return done;
}

/** The `analysis_*` event categories of a case, oldest first. */
export async function analysisEvents(knex: Knex, caseGuid: string): Promise<string[]> {
  const rows = await knex('fusion_event').where({ case_guid: caseGuid }).orderBy('id').select('category');
  return rows.map((row: { category: string }) => row.category).filter((category) => category.startsWith('analysis_'));
}

/** A test server with the event and analysis APIs, and pools of its analyzers (stopped after each test). */
export interface AnalysisSuite {
  t: TestServer;
  api: FusionAnalysisAPI;
  client: FusionAnalysisAPIClient;
  /** `analyzers.directory`: where the logs and outputs go. */
  directory: string;
  /** A pool of analyzer `name` (not started), stopped after the test. */
  startPool(name: string, workers?: number): FusionAnalyzerPool;
}

/**
 * Registers the hooks of an AnalysisSuite over `getStorage()`; `settings` is the `analyzers`
 * section without its directory (a temporary one). Read the suite inside tests.
 */
export function useAnalysisSuite(getStorage: () => KnexStorage, analyzers: readonly FusionAnalyzer[], settings: Record<string, unknown>): AnalysisSuite {
  const suite = {} as AnalysisSuite;
  const pools: FusionAnalyzerPool[] = [];
  beforeAll(async () => {
    suite.directory = await mkdtemp(join(tmpdir(), 'fusion-analyses-'));
    suite.api = new FusionAnalysisAPI([...analyzers]);
    suite.t = await createTestServer({
      storage: getStorage(),
      apis: [new FusionEventAPI({ webhooks: false }), suite.api],
      config: { event: {}, analyzers: { directory: suite.directory, ...settings } },
    });
    suite.client = new FusionAnalysisAPIClient({ client: suite.t.clients.service.client });
  }, 60_000);
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((pool) => pool.stop()));
  });
  afterAll(async () => {
    await suite.t?.close();
    if (suite.directory) await rm(suite.directory, { recursive: true, force: true });
  });
  suite.startPool = (name, workers) => {
    const analyzer = analyzers.find((candidate) => candidate.info.name === name);
    if (!analyzer) throw new Error(`no test analyzer named ${name}`);
    const pool = new FusionAnalyzerPool({ host: suite.t.server, analyzer, config: suite.api.config, ...(workers ? { workers } : {}) });
    pools.push(pool);
    return pool;
  };
  return suite;
}
