/**
 * The FusionStorage `storage.transaction(fn)` hands to `fn`: the same data methods, run on one
 * knex transaction (its `knex` is that transaction, for a service's own tables). Nested
 * `transaction()` calls reuse it (no savepoint). Advisory locks, `migrate` and `close` are
 * refused: take locks before opening the transaction (on PGlite, whose one connection the
 * transaction holds, waiting for a lock inside it can deadlock), migrate and close the root storage.
 */
import type { Knex } from 'knex';
import { FusionError } from '../../helper/errors.js';
import type { LockedFunction } from './advisory-lock.js';
import { KnexQueries } from './knex-queries.js';
import type { LockAttempt } from './keyed-mutex.js';
import type { FusionStorage, StorageKind } from './storage.js';

/** A storage bound to one knex transaction (see the file comment). */
export class TransactionStorage extends KnexQueries implements FusionStorage {
  /** The transaction itself: queries through it commit or roll back with the others. */
  readonly knex: Knex.Transaction;
  /** The backend. */
  readonly kind: StorageKind;
  /** The schema holding the tables, if one was configured. */
  readonly schema: string | undefined;

  constructor(trx: Knex.Transaction, root: { kind: StorageKind; schema: string | undefined }) {
    super();
    this.knex = trx;
    this.kind = root.kind;
    this.schema = root.schema;
  }

  /** The transaction; FUSION_ERR_STORAGE once it is over (a leaked storage must not write outside it). */
  protected db(): Knex {
    if (this.knex.isCompleted()) {
      throw new FusionError('FUSION_ERR_STORAGE', 'storage transaction is over (committed or rolled back): use it only inside its transaction() callback');
    }
    return this.knex;
  }

  /** Runs `fn` in this same transaction (no savepoint: a throw rolls back the whole transaction). */
  async transaction<T>(fn: (tx: FusionStorage) => Promise<T>): Promise<T> {
    this.db();
    return fn(this);
  }

  /** Refused: migrate the root storage. */
  migrate(): Promise<void> {
    return Promise.reject(refused('migrate()', 'call it on the root storage, outside any transaction'));
  }

  /** Refused: the root storage closes. */
  close(): Promise<void> {
    return Promise.reject(refused('close()', 'close the root storage once the transaction is over'));
  }

  /** Refused: take the lock before opening the transaction. */
  withAdvisoryLock<T>(key: string, fn: LockedFunction<T>): Promise<T> {
    void fn;
    return Promise.reject(refused(`withAdvisoryLock(${JSON.stringify(key)})`, 'take the lock first and open the transaction inside it'));
  }

  /** Refused: try the lock before opening the transaction. */
  tryAdvisoryLock<T>(key: string, fn: LockedFunction<T>): Promise<LockAttempt<T>> {
    void fn;
    return Promise.reject(refused(`tryAdvisoryLock(${JSON.stringify(key)})`, 'take the lock first and open the transaction inside it'));
  }
}

function refused(what: string, next: string): FusionError {
  return new FusionError('FUSION_ERR_STORAGE', `storage.${what} is not allowed inside a storage transaction: ${next}`);
}
