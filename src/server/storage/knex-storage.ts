/** FusionStorage over knex: one implementation for PostgreSQL, PGlite on disk and in memory. */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Knex } from 'knex';
import { FusionError } from '../../helper/errors.js';
import type { AdvisoryLocker, LockedFunction } from './advisory-lock.js';
import { KnexQueries } from './knex-queries.js';
import { traceStorageQueries } from './query-spans.js';
import type { LockAttempt } from './keyed-mutex.js';
import { applyMigrations, checkMigrations } from './migrations.js';
import type { StorageMigration } from './migrations.js';
import type { FusionStorage, StorageKind } from './storage.js';
import { TransactionStorage } from './transaction-storage.js';

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
  /** Called once, after the first `migrate()` that succeeds (saves a new PGlite database's migrated dump). */
  readonly afterFirstMigration?: () => Promise<void>;
  /** Called once by `close()` after knex is destroyed (closes PGlite, releases locks). */
  readonly onClose?: () => Promise<void>;
}

/** The knex implementation of FusionStorage. */
export class KnexStorage extends KnexQueries implements FusionStorage {
  /** Query builder on the storage's database and schema. */
  readonly knex: Knex;
  /** The backend. */
  readonly kind: StorageKind;
  /** The schema holding the tables, if one was configured. */
  readonly schema: string | undefined;
  readonly #locker: AdvisoryLocker;
  readonly #migrations: readonly StorageMigration[];
  readonly #onClose: (() => Promise<void>) | undefined;
  #afterFirstMigration: (() => Promise<void>) | undefined;
  readonly #tx = new AsyncLocalStorage<TransactionStorage>();
  #closing: Promise<void> | undefined;

  constructor(options: KnexStorageOptions) {
    super();
    checkMigrations(options.migrations);
    this.knex = options.knex;
    this.kind = options.kind;
    this.schema = options.schema;
    this.#locker = options.locker;
    this.#migrations = [...options.migrations];
    this.#onClose = options.onClose;
    traceStorageQueries(this.knex);
    this.#afterFirstMigration = options.afterFirstMigration;
  }

  /** Applies pending migrations under an advisory lock (see MIGRATION_LOCK_KEY). */
  async migrate(): Promise<void> {
    await this.#locker.withLock(MIGRATION_LOCK_KEY, async () => {
      if (this.schema) await this.knex.raw('CREATE SCHEMA IF NOT EXISTS ??', [this.schema]);
      await applyMigrations(this.knex, this.#migrations, this.schema);
      const afterFirstMigration = this.#afterFirstMigration;
      this.#afterFirstMigration = undefined;
      await afterFirstMigration?.();
    });
  }

  /**
   * Closes the pool (and PGlite); idempotent. Transactions begun before finish (the pool waits
   * for them); a query asking for a connection from now on fails at once (FUSION_ERR_STORAGE).
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      try {
        refuseNewConnections(this.knex, this.schema);
        await this.knex.destroy();
      } finally {
        await this.#onClose?.();
      }
    })();
    return this.#closing;
  }

  /**
   * Runs `fn` in one transaction on a storage bound to it (see FusionStorage.transaction).
   * While `fn` runs, this storage's own data methods called from it (same async context)
   * join the transaction too: on PGlite's one connection anything else would wait forever.
   */
  async transaction<T>(fn: (tx: FusionStorage) => Promise<T>): Promise<T> {
    const active = this.#active();
    if (active !== null) return active.transaction(fn);
    return this.knex.transaction((trx) => {
      const tx = new TransactionStorage(trx, this);
      return this.#tx.run(tx, () => fn(tx));
    });
  }

  /** The pool, or the transaction `transaction()` runs in this async context. */
  protected db(): Knex {
    return this.#active()?.knex ?? this.knex;
  }

  #active(): TransactionStorage | null {
    const tx = this.#tx.getStore();
    return tx !== undefined && !tx.knex.isCompleted() ? tx : null;
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

/**
 * Makes the knex client refuse connections from now on. A pool being destroyed does not serve
 * acquires any more, nor fail them: tarn leaves one asked for after it aborted the waiting ones
 * pending for the whole acquire timeout (60 s, "operation timed out for an unknown reason"),
 * which held up whatever queried a closing storage (a server closed after its storage hung in
 * its webhook worker's next claim). Transactions keep their own connection (their client's own
 * acquireConnection), so those under way finish.
 */
function refuseNewConnections(db: Knex, schema: string | undefined): void {
  const where = schema === undefined ? '' : ` (schema ${schema})`;
  (db.client as { acquireConnection: () => Promise<never> }).acquireConnection = () =>
    Promise.reject(new FusionError('FUSION_ERR_STORAGE', `the storage${where} is closed: no new queries`));
}

function checkKey(key: string): string {
  if (typeof key !== 'string' || key === '') {
    throw new FusionError('FUSION_ERR_BAD_REQUEST', 'advisory lock key must be a non-empty string, e.g. "myservice:sync"');
  }
  return key;
}
