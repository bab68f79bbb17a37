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

const EPOCH = 0;
const UNSET = 'fusion-probe: error not set';

/**
 * The columns a move from `from` to `status` writes: exactly what Analysis.transition changes
 * (found by running it on a probe whose dates and error hold markers). Throws
 * FUSION_ERR_ANALYSIS_TRANSITION when the move is illegal.
 */
export function transitionColumns(from: AnalysisStatus, status: AnalysisStatus, error: string | null = null): Partial<Pick<AnalysisRow, 'status' | 'updated' | 'started' | 'finished' | 'error'>> {
  const probe = new Analysis({ case_guid: '00000000-0000-4000-8000-000000000000', analyzer: 'probe', status: from, started: new Date(EPOCH), finished: new Date(EPOCH), error: UNSET });
  probe.transition(status, error);
  const columns: Partial<Pick<AnalysisRow, 'status' | 'updated' | 'started' | 'finished' | 'error'>> = { status: probe.status, updated: probe.updated };
  if (probe.started?.getTime() !== EPOCH) columns.started = probe.started;
  if (probe.finished?.getTime() !== EPOCH) columns.finished = probe.finished;
  if (probe.error !== UNSET) columns.error = probe.error;
  return columns;
}

/** Options of transitionIf. */
export interface TransitionIfOptions {
  /** The failure's message. */
  error?: string | null;
  /** More conditions on the row (owner, job_id): no match, no move. */
  where?: Partial<Pick<AnalysisRow, 'owner' | 'job_id'>>;
  /** Columns written with the move. */
  columns?: Partial<Pick<AnalysisRow, 'owner' | 'lease_until' | 'attempts'>>;
  /** Adds one to `attempts`. */
  countAttempt?: boolean;
  /** Passes through this status on the way (both moves in the one statement, an event for each). */
  via?: AnalysisStatus;
  /** Runs inside this transaction (with whatever else the caller commits with it). */
  trx?: Knex.Transaction;
}

/**
 * Moves the analysis (`key`) from `from` to `status` only if it is still in `from` and matches
 * `options.where`: one `UPDATE … RETURNING` (a compare-and-set, no read before it). With an
 * event notifier and a case, the move and its `analysis_<status>` event commit in one
 * transaction; without, the statement alone is atomic. Returns the new row, or null when the
 * row did not match (someone else moved it).
 */
export async function transitionIf(
  host: AnalysisHost,
  caseObj: Case | null,
  key: Pick<AnalysisRow, 'case_guid' | 'analyzer'>,
  from: AnalysisStatus,
  status: AnalysisStatus,
  options: TransitionIfOptions = {},
): Promise<AnalysisRow | null> {
  const columns = options.via ? { ...transitionColumns(from, options.via), ...transitionColumns(options.via, status, options.error ?? null) } : transitionColumns(from, status, options.error ?? null);
  const write = async (knex: Knex): Promise<AnalysisRow | null> => {
    const update: Record<string, unknown> = { ...columns, ...options.columns };
    if (options.countAttempt) update.attempts = knex.raw('attempts + 1');
    const rows = (await knex(ANALYSIS_TABLE)
      .where({ case_guid: key.case_guid, analyzer: key.analyzer, status: from, ...options.where })
      .update(update)
      .returning('*')) as AnalysisRow[];
    const row = rows[0];
    if (!row) return null;
    if (options.via) await notify(host, knex as Knex.Transaction, caseObj, analysisOf({ ...row, status: options.via }));
    await notify(host, knex as Knex.Transaction, caseObj, analysisOf(row));
    return row;
  };
  if (options.trx) return write(options.trx);
  if (caseObj === null || host.eventNotifier === null) return write(host.storage.knex);
  return host.storage.transaction((tx) => write(tx.knex));
}
