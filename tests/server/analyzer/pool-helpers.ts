/** Waiting on analyzer pools and reading the analysis events of a case, for the analyzer tests. */
import { once } from 'node:events';
import type { Knex } from 'knex';
import type { Analysis } from '../../../src/concept/index.js';
import type { FusionAnalyzerPool } from '../../../src/server/analyzer/pool.js';

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
