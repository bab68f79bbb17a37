/** The gauge `fusion_analysis_queue_depth{analyzer}`: analyses waiting for a worker, all instances, read when scraped. */
import type { FusionHost } from '../host.js';
import { ANALYSIS_TABLE } from './migration.js';

/** Registers the gauge on `host.metrics`; `registered` names the analyzers reported even at 0. */
export function registerAnalysisSeries(host: Pick<FusionHost, 'metrics' | 'storage' | 'hasStorage'>, registered: () => readonly string[]): void {
  host.metrics.gauge<'analyzer'>({
    name: 'fusion_analysis_queue_depth',
    help: 'Analyses waiting for a worker (pending or queued), by analyzer, all instances',
    labelNames: ['analyzer'],
    collect: async (gauge) => {
      if (!host.hasStorage) return;
      const rows = await host.storage.knex(ANALYSIS_TABLE).whereIn('status', ['pending', 'queued']).select('analyzer').count<{ analyzer: string; count: string | number }[]>('* as count').groupBy('analyzer');
      gauge.reset();
      for (const name of registered()) gauge.set({ analyzer: name }, 0);
      for (const row of rows) gauge.set({ analyzer: row.analyzer }, Number(row.count));
    },
  });
}
