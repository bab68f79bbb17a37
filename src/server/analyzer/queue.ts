/**
 * Queueing analyses on pg-boss: one queue per analyzer, the job sent in the same transaction
 * as the row and its events (a rolled-back queueing leaves neither row nor job). pg-boss
 * fetches by priority then age, so the order is high → medium → low, then oldest first.
 */
import type { Knex } from 'knex';
import type PgBoss from 'pg-boss';
import { Analysis } from '../../concept/index.js';
import type { AnalysisPriority, Case } from '../../concept/index.js';
import { FusionError } from '../../helper/errors.js';
import { serializeTraceContext } from '../../helper/telemetry.js';
import { bossDatabase } from '../task/boss.js';
import { analysisOf, applyTransition, insertPending, readAnalysisRow } from './analysis-rows.js';
import type { AnalysisHost, AnalysisRow } from './analysis-rows.js';

/** pg-boss priority of each AnalysisPriority (higher is fetched first). */
export const PRIORITY_RANK: Readonly<Record<AnalysisPriority, number>> = Object.freeze({ high: 30, medium: 20, low: 10 });

/** The pg-boss queue of analyzer `name`. */
export function analyzerQueue(name: string): string {
  return `fusion-analyzer-${name}`;
}

/** The job data of an analysis. */
export interface AnalysisJob {
  case_guid: string;
  analyzer: string;
}

/** Sends the job of `row` inside `trx` and returns its id. */
async function sendJob(boss: PgBoss, trx: Knex.Transaction, row: Pick<AnalysisRow, 'case_guid' | 'analyzer' | 'priority'>, expireInSeconds: number): Promise<string> {
  const data: AnalysisJob = { case_guid: row.case_guid, analyzer: row.analyzer };
  const id = await boss.send(analyzerQueue(row.analyzer), data, {
    priority: PRIORITY_RANK[row.priority],
    retryLimit: 0, // a lost worker's analysis is recovered by its lease (analysis-recovery.ts)
    expireInSeconds: Math.max(1, Math.ceil(expireInSeconds)),
    db: bossDatabase(trx),
  });
  if (id === null) throw new FusionError('FUSION_ERR_STORAGE', `pg-boss refused the job of analysis ${row.analyzer} of case ${row.case_guid}`);
  return id;
}

/** Options of queueAnalysis. */
export interface QueueAnalysisOptions {
  /** Priority (default: medium for a new analysis, else the one it had). */
  priority?: AnalysisPriority;
  /** Seconds after which pg-boss gives up a fetched job (the analyzer's timeout plus the lease). */
  expireInSeconds: number;
  /** Run inside this transaction (else one is opened); nothing exists if it rolls back. */
  trx?: Knex.Transaction;
}

/**
 * Queues analyzer `analyzer` on `caseObj`: a new analysis, or a finished one again (back to
 * pending first); each step with its event, the job sent in the same transaction. An analysis
 * queued or running already is refused with FUSION_ERR_ANALYSIS_TRANSITION (409).
 */
export async function queueAnalysis(host: AnalysisHost, boss: PgBoss, caseObj: Case, analyzer: string, options: QueueAnalysisOptions): Promise<Analysis> {
  const work = async (trx: Knex.Transaction): Promise<Analysis> => {
    let row = await readAnalysisRow(trx, caseObj.guid, analyzer, true);
    if (row === undefined) {
      const analysis = new Analysis({ case_guid: caseObj.guid, analyzer, ...(options.priority ? { priority: options.priority } : {}) });
      await insertPending(host, trx, caseObj, analysis);
      row = (await readAnalysisRow(trx, caseObj.guid, analyzer, true))!;
    } else if (row.status === 'queued' || row.status === 'extracting' || row.status === 'processing') {
      throw new FusionError('FUSION_ERR_ANALYSIS_TRANSITION', `analysis ${analyzer} of case ${caseObj.guid} is ${row.status} already: queue it again once it has finished`);
    } else if (row.status !== 'pending') {
      row = await applyTransition(host, trx, caseObj, row, 'pending', { ...(options.priority ? { priority: options.priority } : {}), columns: { attempts: 0, owner: null, lease_until: null } });
    } else if (options.priority) {
      row = { ...row, priority: options.priority };
    }
    return requeueRow(host, boss, trx, caseObj, row, options.expireInSeconds, serializeTraceContext());
  };
  return options.trx ? work(options.trx) : host.storage.transaction((tx) => work(tx.knex as Knex.Transaction));
}

/**
 * Moves a pending row to queued with a new job, inside `trx`. `traceContext` (the queueing
 * request's) replaces the stored one; a requeue after a lost worker keeps it (undefined).
 */
export async function requeueRow(
  host: AnalysisHost,
  boss: PgBoss,
  trx: Knex.Transaction,
  caseObj: Case | null,
  row: AnalysisRow,
  expireInSeconds: number,
  traceContext?: string | null,
): Promise<Analysis> {
  const jobId = await sendJob(boss, trx, row, expireInSeconds);
  const columns = { job_id: jobId, ...(traceContext === undefined ? {} : { trace_context: traceContext }) };
  const queued = await applyTransition(host, trx, caseObj, row, 'queued', { priority: row.priority, columns });
  return analysisOf(queued);
}
