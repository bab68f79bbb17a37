/** FusionStorage over knex: one implementation for PostgreSQL, PGlite on disk and in memory. */
import type { Knex } from 'knex';
import type { Case, Identity } from '../../concept/index.js';
import { FusionError } from '../../helper/errors.js';
import type { AdvisoryLocker, LockedFunction } from './advisory-lock.js';
import { affectedRows } from './affected-rows.js';
import { CASE_TABLE, attachCaseRow, caseRow, decodeCase, insertCase, isUuid, whereVisible } from './case-rows.js';
import type { LockAttempt } from './keyed-mutex.js';
import { applyMigrations, checkMigrations } from './migrations.js';
import type { StorageMigration } from './migrations.js';
import {
  insertSession,
  patchSession,
  pruneExpiredSessions,
  removeSession,
  selectIdentities,
  selectSession,
  upsertIdentity,
} from './session-rows.js';
import type {
  CaseClass,
  CaseFilter,
  FusionStorage,
  NewSession,
  SessionPatch,
  StorageKind,
  StoredSession,
} from './storage.js';

/** Lock key `migrate()` holds, so instances starting together migrate one after another. */
export const MIGRATION_LOCK_KEY = 'fusion:migrate';

/** What KnexStorage is built from (openStorage assembles it). */
export interface KnexStorageOptions {
  /** A configured knex instance (search path set when `schema` is). */
  readonly knex: Knex;
  /** The backend. */
  readonly kind: StorageKind;
  /** Schema holding the tables (postgres:// only); created by `migrate()` when missing. */
  readonly schema?: string;
  /** Lock implementation for the backend. */
  readonly locker: AdvisoryLocker;
  /** Every migration, in order (the framework's first). */
  readonly migrations: readonly StorageMigration[];
  /** Called once by `close()` after knex is destroyed (closes PGlite, releases locks). */
  readonly onClose?: () => Promise<void>;
}

/** The knex implementation of FusionStorage. */
export class KnexStorage implements FusionStorage {
  /** Query builder on the storage's database and schema. */
  readonly knex: Knex;
  /** The backend. */
  readonly kind: StorageKind;
  /** The schema holding the tables, if one was configured. */
  readonly schema: string | undefined;
  readonly #locker: AdvisoryLocker;
  readonly #migrations: readonly StorageMigration[];
  readonly #onClose: (() => Promise<void>) | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: KnexStorageOptions) {
    checkMigrations(options.migrations);
    this.knex = options.knex;
    this.kind = options.kind;
    this.schema = options.schema;
    this.#locker = options.locker;
    this.#migrations = [...options.migrations];
    this.#onClose = options.onClose;
  }

  /** Applies pending migrations under an advisory lock (see MIGRATION_LOCK_KEY). */
  async migrate(): Promise<void> {
    await this.#locker.withLock(MIGRATION_LOCK_KEY, async () => {
      if (this.schema) await this.knex.raw('CREATE SCHEMA IF NOT EXISTS ??', [this.schema]);
      await applyMigrations(this.knex, this.#migrations, this.schema);
    });
  }

  /** Closes the pool (and PGlite); idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      try {
        await this.knex.destroy();
      } finally {
        await this.#onClose?.();
      }
    })();
    return this.#closing;
  }

  /** Stores a new case; FUSION_ERR_CASE_EXISTS on a taken guid. */
  async createCase<C extends Case>(c: C): Promise<C> {
    await insertCase(this.knex, c);
    return c;
  }

  /** The case with `guid`, decoded with `caseClass`, or null. */
  async retrieveCase<C extends Case>(caseClass: CaseClass<C>, guid: string): Promise<C | null> {
    if (!isUuid(guid)) return null;
    const row = await this.knex(CASE_TABLE).where({ guid }).first<{ document: unknown } | undefined>('document');
    return row ? decodeCase(caseClass, row.document) : null;
  }

  /** Replaces the stored case with `c`; FUSION_ERR_CASE_NOT_FOUND when it is not stored. */
  async updateCase<C extends Case>(c: C): Promise<C> {
    const { guid, ...columns } = caseRow(c);
    const updated = affectedRows(await this.knex(CASE_TABLE).where({ guid }).update(columns));
    if (updated === 0) {
      throw new FusionError('FUSION_ERR_CASE_NOT_FOUND', `case ${guid} is not stored: create it first`);
    }
    return c;
  }

  /** Deletes the case; false when there was none. */
  async deleteCase(guid: string): Promise<boolean> {
    if (!isUuid(guid)) return false;
    return affectedRows(await this.knex(CASE_TABLE).where({ guid }).delete()) > 0;
  }

  /** Cases visible to `filter.acs`, by creation time then guid. */
  async enumerateCases<C extends Case>(caseClass: CaseClass<C>, filter?: CaseFilter): Promise<C[]> {
    const query = whereVisible(this.knex(CASE_TABLE).select('document'), filter).orderBy([
      { column: 'created', order: 'asc' },
      { column: 'guid', order: 'asc' },
    ]);
    const rows = (await query) as { document: unknown }[];
    return rows.map((row) => decodeCase(caseClass, row.document));
  }

  /** Re-keys the case to `nextGuid` and marks it managed (one transaction). */
  attachCase<C extends Case>(caseClass: CaseClass<C>, guid: string, nextGuid: string): Promise<C | null> {
    return attachCaseRow(this.knex, caseClass, guid, nextGuid);
  }

  /** Inserts or replaces the identity. */
  storeIdentity(identity: Identity): Promise<void> {
    return upsertIdentity(this.knex, identity);
  }

  /** Every stored identity, by username. */
  enumerateIdentities(): Promise<Identity[]> {
    return selectIdentities(this.knex);
  }

  /** Stores a session under the sha256 of its token. */
  createSession(session: NewSession): Promise<void> {
    return insertSession(this.knex, session);
  }

  /** The unexpired session of `token`, or null. */
  retrieveSession(token: string): Promise<StoredSession | null> {
    return selectSession(this.knex, token);
  }

  /** Replaces the given fields of the session of `token`. */
  updateSession(token: string, patch: SessionPatch): Promise<void> {
    return patchSession(this.knex, token, patch);
  }

  /** Deletes the session of `token`. */
  deleteSession(token: string): Promise<void> {
    return removeSession(this.knex, token);
  }

  /** Deletes expired sessions; returns how many. */
  pruneSessions(): Promise<number> {
    return pruneExpiredSessions(this.knex);
  }

  /** Runs `fn` holding the named lock (all instances on this database and schema). */
  async withAdvisoryLock<T>(key: string, fn: LockedFunction<T>): Promise<T> {
    return this.#locker.withLock(checkKey(key), fn);
  }

  /** Runs `fn` under the named lock if it is free now; else `{acquired: false}`. */
  async tryAdvisoryLock<T>(key: string, fn: LockedFunction<T>): Promise<LockAttempt<T>> {
    return this.#locker.tryWithLock(checkKey(key), fn);
  }
}

function checkKey(key: string): string {
  if (typeof key !== 'string' || key === '') {
    throw new FusionError('FUSION_ERR_BAD_REQUEST', 'advisory lock key must be a non-empty string, e.g. "myservice:sync"');
  }
  return key;
}
