/**
 * `fusion analyzer NAME --config FILE [--workers N]`: runs the worker pool of one analyzer
 * of the service module until SIGINT/SIGTERM (analyses in progress then go back to the queue).
 */
import type { FusionAnalyzerPool } from '../../server/analyzer/pool.js';
import { EXIT_USAGE } from '../command.js';
import type { FusionCommand } from '../command.js';
import { parseMetricsPort, startRoleMetrics } from './role-metrics.js';
import { parseRoleArguments, roleFail, startRole, stopOnSignals } from './role.js';

const USAGE = 'fusion analyzer NAME --config FILE [--workers N] [--metrics-port PORT] [--storage-url URL]';

/** Runs `fusion analyzer`. */
export async function runAnalyzer(args: readonly string[]): Promise<number | void> {
  const parsed = parseRoleArguments('analyzer', USAGE, args, { workers: { type: 'string' }, 'metrics-port': { type: 'string' } });
  if (typeof parsed === 'number') return parsed;
  const metricsPort = parseMetricsPort(parsed.values['metrics-port']);
  if (typeof metricsPort === 'string') return roleFail('analyzer', `${metricsPort}\nusage: ${USAGE}`, EXIT_USAGE);
  let workers: number | undefined;
  if (parsed.values.workers !== undefined) {
    workers = Number(parsed.values.workers);
    if (!Number.isInteger(workers) || workers < 1) return roleFail('analyzer', `--workers must be an integer >= 1, got ${String(parsed.values.workers)}`, EXIT_USAGE);
  }
  const role = await startRole('analyzer', parsed);
  if (typeof role === 'number') return role;
  const { server, analyzers } = role;
  const metrics = await startRoleMetrics('analyzer', server, metricsPort);
  if (typeof metrics === 'number') return metrics;
  const analyzer = analyzers.find((candidate) => candidate.info.name === parsed.name);
  let pool: FusionAnalyzerPool;
  try {
    // Loaded here, not at the top: the other commands start without the analyzer stack (pg-boss, archiver).
    const { readAnalyzersConfig } = await import('../../server/analyzer/config.js');
    const { FusionAnalyzerPool } = await import('../../server/analyzer/pool.js');
    if (!analyzer) throw new Error(`the service has no analyzer named ${JSON.stringify(parsed.name)}; its analyzers: ${analyzers.map((a) => a.info.name).join(', ') || 'none'}`);
    pool = new FusionAnalyzerPool({ host: server, analyzer, config: readAnalyzersConfig(server.config), ...(workers === undefined ? {} : { workers }) });
    await pool.start();
  } catch (error) {
    await metrics?.close();
    await server.close().catch(() => undefined);
    return roleFail('analyzer', (error as Error).message, EXIT_USAGE);
  }
  stopOnSignals(server, async () => {
    await pool.stop();
    await metrics?.close();
  });
  process.stdout.write(`fusion analyzer: ${analyzer.info.name} started\n`);
}

/** The `analyzer` command. */
export const analyzerCommand: FusionCommand = {
  name: 'analyzer',
  summary: "Run the workers of one of the service module's analyzers",
  usage: USAGE,
  run: runAnalyzer,
};
