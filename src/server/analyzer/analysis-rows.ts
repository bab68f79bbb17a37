/**
 * The analyses table (one row per case and analyzer) and its status changes: each change is
 * checked against the legal transitions and committed in one transaction with its
 * `analysis_<status>` event (through the event notifier, when the service has one).
 */
import type { Knex } from 'knex';
import { Analysis } from '../../concept/index.js';
import type { AnalysisPriority, AnalysisStatus, Case } from '../../concept/index.js';
import type { FusionHost } from '../host.js';

import { ANALYSIS_TABLE } from './migration.js';

export { ANALYSIS_TABLE };

/** What status changes need from the server (a FusionServer fits). */
export type AnalysisHost = Pick<FusionHost, 'storage' | 'eventNotifier' | 'loadCase' | 'logger'>;

/** A stored row. */
export interface AnalysisRow {
  case_guid: string;
  analyzer: string;
  status: AnalysisStatus;
  priority: AnalysisPriority;
  created: Date;
  updated: Date | null;
  started: Date | null;
  finished: Date | null;
  error: string | null;
  attempts: number;
  job_id: string | null;
  owner: string | null;
  lease_until: Date | null;
  /** The trace context of the request that queued it (serializeTraceContext), or null. */
  trace_context: string | null;
}

/** The Analysis of a row. */
export function analysisOf(row: AnalysisRow): Analysis {
  return Analysis.fromJSON({
    case_guid: row.case_guid,
    analyzer: row.analyzer,
    status: row.status,
    priority: row.priority,
    created: new Date(row.created).toISOString(),
    updated: row.updated && new Date(row.updated).toISOString(),
    started: row.started && new Date(row.started).toISOString(),
    finished: row.finished && new Date(row.finished).toISOString(),
    error: row.error,
  });
}

function columnsOf(analysis: Analysis): Pick<AnalysisRow, 'status' | 'priority' | 'updated' | 'started' | 'finished' | 'error'> {
  return {
    status: analysis.status,
    priority: analysis.priority,
    updated: analysis.updated,
    started: analysis.started,
    finished: analysis.finished,
    error: analysis.error,
  };
}

/** The analyses of a case, by analyzer name. */
export async function listAnalyses(knex: Knex, caseGuid: string): Promise<Analysis[]> {
  const rows = await knex<AnalysisRow>(ANALYSIS_TABLE).where({ case_guid: caseGuid }).orderBy('analyzer');
  return rows.map(analysisOf);
}

/** One analysis row, or undefined. */
export async function readAnalysisRow(knex: Knex, caseGuid: string, analyzer: string, forUpdate = false): Promise<AnalysisRow | undefined> {
  const query = knex<AnalysisRow>(ANALYSIS_TABLE).where({ case_guid: caseGuid, analyzer }).first();
  return (forUpdate ? query.forUpdate() : query) as Promise<AnalysisRow | undefined>;
}

/** Inserts a new pending analysis (inside `trx`) and emits `analysis_pending`. */
export async function insertPending(host: AnalysisHost, trx: Knex.Transaction, caseObj: Case | null, analysis: Analysis): Promise<void> {
  await trx<AnalysisRow>(ANALYSIS_TABLE).insert({ case_guid: analysis.case_guid, analyzer: analysis.analyzer, created: analysis.created, attempts: 0, ...columnsOf(analysis) });
  await notify(host, trx, caseObj, analysis);
}

/**
 * Moves the analysis of `row` to `status` inside `trx` (refused with FUSION_ERR_ANALYSIS_TRANSITION
 * when illegal), writes `columns` with it, and emits `analysis_<status>` in the same transaction.
 */
export async function applyTransition(
  host: AnalysisHost,
  trx: Knex.Transaction,
  caseObj: Case | null,
  row: AnalysisRow,
  status: AnalysisStatus,
  options: { error?: string | null; priority?: AnalysisPriority; columns?: Partial<Pick<AnalysisRow, 'attempts' | 'job_id' | 'owner' | 'lease_until' | 'trace_context'>> } = {},
): Promise<AnalysisRow> {
  const analysis = analysisOf(row).transition(status, options.error ?? null);
  if (options.priority) analysis.priority = options.priority;
  const next: AnalysisRow = { ...row, ...columnsOf(analysis), ...options.columns };
  await trx<AnalysisRow>(ANALYSIS_TABLE)
    .where({ case_guid: row.case_guid, analyzer: row.analyzer })
    .update({ ...columnsOf(analysis), ...options.columns });
  await notify(host, trx, caseObj, analysis);
  return next;
}

async function notify(host: AnalysisHost, trx: Knex.Transaction, caseObj: Case | null, analysis: Analysis): Promise<void> {
  if (caseObj === null || host.eventNotifier === null) return;
  await host.eventNotifier.notify(`analysis_${analysis.status}`, caseObj, { analysis: analysis.toJSON() }, { trx });
}
