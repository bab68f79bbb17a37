/**
 * Rows of `fusion_pending_download`: one per prepared key. A row is *pending* until its first
 * GET claims it (atomically: only one request, on any instance, wins), then either deleted
 * (no resume) or turned into a *resume window* holding the hash of a resume token.
 */
import type { Knex } from 'knex';
import { FusionError } from '../../helper/errors.js';

/** Name of the table (created by the storage migration `fusion/0002_pending_download`). */
export const PENDING_DOWNLOAD_TABLE = 'fusion_pending_download';

/** What is served: a local file, a local directory zipped on the fly, or a cloud file (`filepath` is its cloud path). */
export type DownloadKind = 'file' | 'directory' | 'cloud';

/** A stored key (secrets hashed). */
export interface PendingDownloadRow {
  guid: string;
  tokenHash: string;
  filepath: string;
  filename: string;
  kind: DownloadKind;
  expiresAt: Date;
  /** Set once the first GET claimed the row: the sha256 of the resume token given to that client. */
  resumeHash: string | null;
}

interface RawRow {
  guid: string;
  token_hash: string;
  filepath: string;
  filename: string;
  kind: string;
  expires_at: Date | string;
  resume_hash: string | null;
}

function rowsOf(result: unknown): RawRow[] {
  const rows = (result as { rows?: unknown } | null)?.rows;
  return Array.isArray(rows) ? (rows as RawRow[]) : [];
}

function decode(row: RawRow): PendingDownloadRow {
  return {
    guid: row.guid,
    tokenHash: row.token_hash,
    filepath: row.filepath,
    filename: row.filename,
    kind: row.kind === 'directory' || row.kind === 'cloud' ? row.kind : 'file',
    expiresAt: row.expires_at instanceof Date ? row.expires_at : new Date(row.expires_at),
    resumeHash: row.resume_hash,
  };
}

const COLUMNS = 'guid, token_hash, filepath, filename, kind, expires_at, resume_hash';

/**
 * Inserts a pending row unless `maxPending` unexpired pending rows exist already
 * (FUSION_ERR_DOWNLOAD_LIMIT). Expired rows are deleted first. The count and the insert run
 * in one transaction under a transaction-level advisory lock, so concurrent prepares on any
 * instance cannot overshoot the limit.
 */
export async function insertPending(
  knex: Knex,
  row: Omit<PendingDownloadRow, 'resumeHash'>,
  options: { maxPending: number; now: Date },
): Promise<void> {
  await knex.transaction(async (trx) => {
    await trx.raw(`SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':' || ?))`, [PENDING_DOWNLOAD_TABLE]);
    await trx.raw(`DELETE FROM ?? WHERE expires_at <= ?`, [PENDING_DOWNLOAD_TABLE, options.now]);
    const counted = rowsOf(
      await trx.raw(`SELECT count(*)::int AS n FROM ?? WHERE resume_hash IS NULL`, [PENDING_DOWNLOAD_TABLE]),
    )[0] as unknown as { n?: unknown } | undefined;
    const pending = Number(counted?.n ?? 0);
    if (pending >= options.maxPending) {
      throw new FusionError(
        'FUSION_ERR_DOWNLOAD_LIMIT',
        `too many pending downloads (${pending} of ${options.maxPending}): retry in a few seconds, or raise download.max_pending_count`,
      );
    }
    await trx.raw(
      `INSERT INTO ?? (guid, token_hash, filepath, filename, kind, created_at, expires_at, resume_hash) VALUES (?, ?, ?, ?, ?, ?, ?, NULL)`,
      [PENDING_DOWNLOAD_TABLE, row.guid, row.tokenHash, row.filepath, row.filename, row.kind, options.now, row.expiresAt],
    );
  });
}

/** The unexpired row of `guid` (pending or resume window), or null. */
export async function selectLive(knex: Knex, guid: string, now: Date): Promise<PendingDownloadRow | null> {
  const rows = rowsOf(await knex.raw(`SELECT ${COLUMNS} FROM ?? WHERE guid = ? AND expires_at > ?`, [PENDING_DOWNLOAD_TABLE, guid, now]));
  return rows[0] ? decode(rows[0]) : null;
}

/**
 * Claims the pending row of `guid` for one request: null when it is gone, expired or claimed
 * already (by another request or instance). With `resumeHash`, the row becomes a resume window
 * until `windowEnd` (UPDATE ... RETURNING); without, it is deleted (DELETE ... RETURNING). Both
 * statements re-check `resume_hash IS NULL` under the row lock, so exactly one claimer wins.
 */
export async function claimPending(
  knex: Knex,
  guid: string,
  tokenHash: string,
  options: { now: Date; resumeHash: string | null; windowEnd: Date },
): Promise<PendingDownloadRow | null> {
  const where = `guid = ? AND token_hash = ? AND resume_hash IS NULL AND expires_at > ?`;
  const result =
    options.resumeHash === null
      ? await knex.raw(`DELETE FROM ?? WHERE ${where} RETURNING ${COLUMNS}`, [PENDING_DOWNLOAD_TABLE, guid, tokenHash, options.now])
      : await knex.raw(`UPDATE ?? SET resume_hash = ?, expires_at = ? WHERE ${where} RETURNING ${COLUMNS}`, [
          PENDING_DOWNLOAD_TABLE,
          options.resumeHash,
          options.windowEnd,
          guid,
          tokenHash,
          options.now,
        ]);
  const rows = rowsOf(result);
  return rows[0] ? decode(rows[0]) : null;
}

/** Moves the end of the resume window of `guid` to `windowEnd` (while the row still exists); false when gone. */
export async function extendWindow(knex: Knex, guid: string, resumeHash: string, windowEnd: Date): Promise<boolean> {
  const result = await knex.raw(`UPDATE ?? SET expires_at = GREATEST(expires_at, ?) WHERE guid = ? AND resume_hash = ? RETURNING guid`, [
    PENDING_DOWNLOAD_TABLE,
    windowEnd,
    guid,
    resumeHash,
  ]);
  return rowsOf(result).length > 0;
}

/** Unexpired pending (unclaimed) rows, across every instance. */
export async function countPending(knex: Knex, now: Date): Promise<number> {
  const rows = rowsOf(await knex.raw(`SELECT count(*)::int AS n FROM ?? WHERE resume_hash IS NULL AND expires_at > ?`, [PENDING_DOWNLOAD_TABLE, now]));
  return Number((rows[0] as unknown as { n?: unknown } | undefined)?.n ?? 0);
}
