/** The data methods of FusionStorage over knex, shared by KnexStorage and its transaction-bound TransactionStorage. */
import type { Knex } from 'knex';
import type { Case, Identity } from '../../concept/index.js';
import { FusionError } from '../../helper/errors.js';
import { affectedRows } from './affected-rows.js';
import { CASE_TABLE, attachCaseRow, caseRow, decodeCase, insertCase, isUuid, whereVisible } from './case-rows.js';
import {
  insertSession,
  patchSession,
  pruneExpiredSessions,
  removeSession,
  selectIdentities,
  selectSession,
  upsertIdentity,
} from './session-rows.js';
import type { CaseClass, CaseFilter, KeyPage, NewSession, SessionPatch, StoredSession } from './storage.js';

/** Case, identity and session queries on whatever `db()` returns (the pool, or a transaction). */
export abstract class KnexQueries {
  /** Where the queries run: the pool, or the transaction in force. */
  protected abstract db(): Knex;

  /** Stores a new case; FUSION_ERR_CASE_EXISTS on a taken guid. */
  async createCase<C extends Case>(c: C): Promise<C> {
    await insertCase(this.db(), c);
    return c;
  }

  /** The case with `guid`, decoded with `caseClass`, or null. */
  async retrieveCase<C extends Case>(caseClass: CaseClass<C>, guid: string): Promise<C | null> {
    if (!isUuid(guid)) return null;
    const row = await this.db()(CASE_TABLE).where({ guid }).first<{ document: unknown } | undefined>('document');
    return row ? decodeCase(caseClass, row.document) : null;
  }

  /** Replaces the stored case with `c`; FUSION_ERR_CASE_NOT_FOUND when it is not stored. */
  async updateCase<C extends Case>(c: C): Promise<C> {
    const { guid, ...columns } = caseRow(c);
    const updated = affectedRows(await this.db()(CASE_TABLE).where({ guid }).update(columns));
    if (updated === 0) {
      throw new FusionError('FUSION_ERR_CASE_NOT_FOUND', `case ${guid} is not stored: create it first`);
    }
    return c;
  }

  /** Deletes the case; false when there was none. */
  async deleteCase(guid: string): Promise<boolean> {
    if (!isUuid(guid)) return false;
    return affectedRows(await this.db()(CASE_TABLE).where({ guid }).delete()) > 0;
  }

  /** Cases visible to `filter.acs`, by creation time then guid. */
  async enumerateCases<C extends Case>(caseClass: CaseClass<C>, filter?: CaseFilter): Promise<C[]> {
    let query = whereVisible(this.db()(CASE_TABLE).select('document'), filter).orderBy([
      { column: 'created', order: 'asc' },
      { column: 'guid', order: 'asc' },
    ]);
    const after = filter?.after;
    if (after !== undefined) query = query.whereRaw('(created, guid) > (?, ?)', [after.created, after.guid]);
    if (filter?.limit !== undefined) query = query.limit(filter.limit);
    const rows = (await query) as { document: unknown }[];
    return rows.map((row) => decodeCase(caseClass, row.document));
  }

  /** Re-keys the case to `nextGuid` and marks it managed (one transaction, a savepoint inside another). */
  attachCase<C extends Case>(caseClass: CaseClass<C>, guid: string, nextGuid: string): Promise<C | null> {
    return attachCaseRow(this.db(), caseClass, guid, nextGuid);
  }

  /** Inserts or replaces the identity. */
  storeIdentity(identity: Identity): Promise<void> {
    return upsertIdentity(this.db(), identity);
  }

  /** Every stored identity, by username (a page of them with `page`). */
  enumerateIdentities(page?: KeyPage): Promise<Identity[]> {
    return selectIdentities(this.db(), page);
  }

  /** Stores a session under the sha256 of its token. */
  createSession(session: NewSession): Promise<void> {
    return insertSession(this.db(), session);
  }

  /** The unexpired session of `token`, or null. */
  retrieveSession(token: string): Promise<StoredSession | null> {
    return selectSession(this.db(), token);
  }

  /** Replaces the given fields of the session of `token`. */
  updateSession(token: string, patch: SessionPatch): Promise<void> {
    return patchSession(this.db(), token, patch);
  }

  /** Deletes the session of `token`. */
  deleteSession(token: string): Promise<void> {
    return removeSession(this.db(), token);
  }

  /** Deletes expired sessions; returns how many. */
  pruneSessions(): Promise<number> {
    return pruneExpiredSessions(this.db());
  }
}
