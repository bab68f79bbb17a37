/**
 * The gauge `fusion_analysis_queue_depth{analyzer, status}`: unfinished analyses by status
 * (`pending`, `queued`: waiting for a worker; `extracting`, `processing`: being run), all
 * instances, read when scraped. Finished analyses (success, failure) are not a queue.
 */
import type { AnalysisStatus } from '../../concept/index.js';
import type { FusionHost } from '../host.js';
import { ANALYSIS_TABLE } from './migration.js';

/** The statuses the gauge reports, every registered analyzer at 0 when it has none. */
export const QUEUE_STATUSES: readonly AnalysisStatus[] = ['pending', 'queued', 'extracting', 'processing'];

/** Registers the gauge on `host.metrics`; `registered` names the analyzers reported even at 0. */
export function registerAnalysisSeries(host: Pick<FusionHost, 'metrics' | 'storage' | 'hasStorage'>, registered: () => readonly string[]): void {
  host.metrics.gauge<'analyzer' | 'status'>({
    name: 'fusion_analysis_queue_depth',
    help: 'Unfinished analyses by analyzer and status (pending, queued: waiting for a worker; extracting, processing: running), all instances',
    labelNames: ['analyzer', 'status'],
    collect: async (gauge) => {
      if (!host.hasStorage) return;
      const rows = await host.storage
        .knex(ANALYSIS_TABLE)
        .whereIn('status', QUEUE_STATUSES)
        .select('analyzer', 'status')
        .count<{ analyzer: string; status: string; count: string | number }[]>('* as count')
        .groupBy('analyzer', 'status');
      gauge.reset();
      for (const analyzer of registered()) for (const status of QUEUE_STATUSES) gauge.set({ analyzer, status }, 0);
      for (const row of rows) gauge.set({ analyzer: row.analyzer, status: row.status }, Number(row.count));
    },
  });
}
