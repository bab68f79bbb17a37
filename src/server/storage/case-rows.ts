/** Case rows of `fusion_case`: the wire document as jsonb plus the columns queries need. */
import type { Knex } from 'knex';
import type { Case } from '../../concept/index.js';
import { FusionError, isFusionError } from '../../helper/errors.js';
import type { CaseClass, CaseFilter } from './storage.js';

/** Name of the cases table. */
export const CASE_TABLE = 'fusion_case';

/** A `fusion_case` row as written. */
export interface CaseRow {
  guid: string;
  managed: boolean;
  created: Date;
  updated: Date | null;
  closed: Date | null;
  name: string;
  acs: string[];
  /** JSON text of `case.toJSON()` (all fields, a subclass's too). */
  document: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True when `value` is a UUID string (any case); anything else can never match a row. */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

/** The row storing `c`. */
export function caseRow(c: Case): CaseRow {
  return {
    guid: c.guid,
    managed: c.managed,
    created: c.created,
    updated: c.updated,
    closed: c.closed,
    name: c.name,
    acs: [...c.acs],
    document: JSON.stringify(c.toJSON()),
  };
}

/** Decodes a stored document; a document that no longer decodes is a server-side fault (500). */
export function decodeCase<C extends Case>(caseClass: CaseClass<C>, document: unknown): C {
  try {
    return caseClass.fromJSON(document);
  } catch (error) {
    const guid = (document as { guid?: unknown } | null)?.guid;
    const reason = isFusionError(error) || error instanceof Error ? error.message : String(error);
    throw new FusionError(
      'FUSION_ERR_STORAGE',
      `stored case ${String(guid)} does not decode as ${caseClass.conceptName} (${reason}): give new fields a default or migrate the stored documents`,
      { cause: error },
    );
  }
}

/** True for a PostgreSQL unique violation (pg and PGlite both carry SQLSTATE in `code`). */
export function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === '23505';
}

/** Applies the ACS filter to a case query: open cases (empty acs) or cases sharing a name. */
export function whereVisible(query: Knex.QueryBuilder, filter: CaseFilter | undefined): Knex.QueryBuilder {
  if (filter?.acs === undefined) return query;
  const names = [...new Set(filter.acs)].filter((name) => typeof name === 'string');
  return query.whereRaw('(cardinality(acs) = 0 OR acs && ?::text[])', [names]);
}

/** Inserts `c`; FUSION_ERR_CASE_EXISTS when its guid is taken (the table is then unchanged). */
export async function insertCase(knex: Knex, c: Case): Promise<void> {
  const inserted = await knex(CASE_TABLE).insert(caseRow(c)).onConflict('guid').ignore().returning('guid');
  if (inserted.length === 0) {
    throw new FusionError('FUSION_ERR_CASE_EXISTS', `case ${c.guid} exists already: create it without a guid to get a new one, or update it instead`);
  }
}

/** Re-keys a case and marks it managed, in one transaction (see FusionStorage.attachCase). */
export async function attachCaseRow<C extends Case>(knex: Knex, caseClass: CaseClass<C>, guid: string, nextGuid: string): Promise<C | null> {
  if (!isUuid(guid)) return null;
  if (!isUuid(nextGuid)) {
    throw new FusionError('FUSION_ERR_BAD_GUID', `next case guid ${JSON.stringify(nextGuid)} is not a UUID`);
  }
  const next = nextGuid.toLowerCase();
  return knex.transaction(async (trx) => {
    const row = await trx(CASE_TABLE).where({ guid }).forUpdate().first<{ document: unknown; managed: boolean } | undefined>('document', 'managed');
    if (!row) return null;
    if (row.managed) {
      throw new FusionError('FUSION_ERR_CASE_MANAGED', `case ${guid} is managed already (attached earlier): it cannot be attached to ${next}`);
    }
    if (next !== guid.toLowerCase()) {
      const taken = await trx(CASE_TABLE).where({ guid: next }).first('guid');
      if (taken) throw caseExists(guid, next);
    }
    const current = decodeCase(caseClass, row.document);
    const attached = decodeCase(caseClass, { ...current.toJSON(), guid: next, managed: true });
    try {
      await trx(CASE_TABLE).where({ guid }).update(caseRow(attached));
    } catch (error) {
      // A concurrent create of `next` between the check and the update.
      if (isUniqueViolation(error)) throw caseExists(guid, next);
      throw error;
    }
    return attached;
  });
}

function caseExists(guid: string, next: string): FusionError {
  return new FusionError('FUSION_ERR_CASE_EXISTS', `cannot attach case ${guid} to ${next}: case ${next} exists already`);
}
