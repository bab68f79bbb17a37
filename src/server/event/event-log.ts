/**
 * The event log in storage (table fusion_event, migration fusion/0003_event). Appends are
 * serialized by a transaction-scoped advisory lock, so ids become visible in increasing order
 * (commit order = id order): "every row with id > N" is then a complete answer, which the bus
 * and Last-Event-ID resumption rely on. Ids travel as bigint in JS and decimal strings in SQL.
 */
import type { Knex } from 'knex';

/** The events table. */
export const EVENT_TABLE = 'fusion_event';
/** One row: the highest id the retention prune deleted (`pruned_through`). */
export const HORIZON_TABLE = 'fusion_event_horizon';

/** An event row as the bus and the SSE streams read it (the document as JSON text, never parsed). */
export interface EventRow {
  readonly id: bigint;
  readonly caseGuid: string;
  readonly category: string;
  /** The Event JSON, as stored (jsonb text form, one line). */
  readonly document: string;
}

/** Where the log stands: ids <= prunedThrough may be gone; maxId is the newest committed id (0 when empty). */
export interface LogPosition {
  readonly prunedThrough: bigint;
  readonly maxId: bigint;
}

/** A page of one case's events after some id, read in the same snapshot as the log position. */
export interface CasePage extends LogPosition {
  readonly rows: EventRow[];
}

interface RawRow {
  id: string | null;
  case_guid?: string;
  category?: string;
  document: string | null;
}

function rowsOf<T>(result: unknown): T[] {
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}

function toRow(raw: RawRow, caseGuid?: string): EventRow {
  return { id: BigInt(raw.id!), caseGuid: raw.case_guid ?? caseGuid!, category: raw.category ?? '', document: raw.document! };
}

/**
 * Inserts an event inside `trx`, after taking the append lock `lockId` (held until commit).
 * Returns the new id (decimal string) and the database time it was stored at.
 */
export async function appendEvent(
  trx: Knex.Transaction,
  lockId: string,
  event: { caseGuid: string; category: string; document: string },
): Promise<{ id: string; createdAt: Date }> {
  await trx.raw('SELECT pg_advisory_xact_lock(?::bigint)', [lockId]);
  const result = await trx.raw(
    `INSERT INTO ${EVENT_TABLE} (case_guid, category, document) VALUES (?, ?, ?::jsonb) RETURNING id::text AS id, created_at`,
    [event.caseGuid, event.category, event.document],
  );
  const row = rowsOf<{ id: string; created_at: Date | string }>(result)[0]!;
  return { id: row.id, createdAt: row.created_at instanceof Date ? row.created_at : new Date(row.created_at) };
}

/** Every event with id > `after`, oldest first, at most `limit`. */
export async function fetchEventsAfter(knex: Knex, after: bigint, limit: number): Promise<EventRow[]> {
  const result = await knex.raw(
    // ORDER BY e.id: a bare `id` would sort by the text alias ('10' < '9').
    `SELECT e.id::text AS id, e.case_guid::text AS case_guid, e.category, e.document::text AS document
       FROM ${EVENT_TABLE} e WHERE e.id > ?::bigint ORDER BY e.id LIMIT ?`,
    [after.toString(), limit],
  );
  return rowsOf<RawRow>(result).map((raw) => toRow(raw));
}

/** The newest committed id and the prune horizon. */
export async function logPosition(knex: Knex): Promise<LogPosition> {
  const page = await fetchCasePage(knex, null, 0n, 0);
  return { prunedThrough: page.prunedThrough, maxId: page.maxId };
}

/**
 * Events of `caseGuid` with id > `after` (oldest first, at most `limit`), with the log position
 * read in the same statement, hence the same snapshot: when `prunedThrough >= after + 1`,
 * events the page should hold may have been pruned (the prune raises the horizon first).
 */
export async function fetchCasePage(knex: Knex, caseGuid: string | null, after: bigint, limit: number): Promise<CasePage> {
  const result = await knex.raw(
    `WITH h AS (SELECT pruned_through FROM ${HORIZON_TABLE} WHERE id = 1),
          m AS (SELECT coalesce(max(id), 0) AS max_id FROM ${EVENT_TABLE}),
          page AS (SELECT id, document FROM ${EVENT_TABLE} WHERE case_guid = ? AND id > ?::bigint ORDER BY id LIMIT ?)
     SELECT coalesce((SELECT pruned_through FROM h), 0)::text AS pruned_through, m.max_id::text AS max_id,
            page.id::text AS id, page.document::text AS document
       FROM m LEFT JOIN page ON true ORDER BY page.id`,
    [caseGuid ?? '00000000-0000-0000-0000-000000000000', after.toString(), limit],
  );
  const raws = rowsOf<RawRow & { pruned_through: string; max_id: string }>(result);
  const first = raws[0];
  return {
    prunedThrough: BigInt(first?.pruned_through ?? '0'),
    maxId: BigInt(first?.max_id ?? '0'),
    rows: raws.filter((raw) => raw.id !== null).map((raw) => toRow(raw, caseGuid ?? undefined)),
  };
}

/**
 * Deletes the events older than `retentionSeconds`, as a prefix of ids: the horizon is raised
 * (and committed) before any row goes, so a reader never misses rows without seeing why.
 * Returns how many rows were deleted.
 */
export async function pruneEvents(knex: Knex, retentionSeconds: number, batch = 5000): Promise<number> {
  const cutoff = rowsOf<{ id: string | null }>(
    await knex.raw(`SELECT max(id)::text AS id FROM ${EVENT_TABLE} WHERE created_at < now() - (?::float8 * interval '1 second')`, [retentionSeconds]),
  )[0]?.id;
  if (cutoff === null || cutoff === undefined) return 0;
  await knex.raw(`UPDATE ${HORIZON_TABLE} SET pruned_through = greatest(pruned_through, ?::bigint) WHERE id = 1`, [cutoff]);
  let deleted = 0;
  for (;;) {
    const result = await knex.raw(
      `DELETE FROM ${EVENT_TABLE} WHERE id IN (SELECT id FROM ${EVENT_TABLE} WHERE id <= ?::bigint ORDER BY id LIMIT ?) RETURNING id`,
      [cutoff, batch],
    );
    const count = rowsOf<unknown>(result).length;
    deleted += count;
    if (count < batch) return deleted;
  }
}
