/** The storage contract every server API codes against (one implementation: KnexStorage). */
import type { Knex } from 'knex';
import type { Case, Identity } from '../../concept/index.js';
import type { LockedFunction } from './advisory-lock.js';
import type { LockAttempt } from './keyed-mutex.js';

export type { LockedFunction } from './advisory-lock.js';
export type { LockAttempt } from './keyed-mutex.js';

/** A Case class (Case or a subclass such as TimelineCase) that rows are decoded with. */
export interface CaseClass<C extends Case = Case> {
  /** The concept's name (for messages). */
  readonly conceptName: string;
  /** Decodes the stored wire document into an instance of the class. */
  fromJSON(data: unknown): C;
}

/** Which cases `enumerateCases` returns. */
export interface CaseFilter {
  /**
   * The access-control names of the caller (`identity.acs`: username ∪ groups). A case is
   * returned when its own `acs` is empty (open) or shares a name with this list.
   * `undefined` returns every case (API-key clients, internal jobs).
   */
  readonly acs?: Iterable<string>;
  /** Only cases after this sort key (creation time, then guid): the cursor of a page. */
  readonly after?: { readonly created: Date; readonly guid: string };
  /** At most this many cases. */
  readonly limit?: number;
}

/** A slice of a list keyed by a unique string: at most `limit` items whose key sorts after `after` (UTF-8 byte order). */
export interface KeyPage {
  readonly limit: number;
  readonly after?: string;
}

/** A stored session, as `retrieveSession` returns it. */
export interface StoredSession {
  /** Who the session belongs to. */
  readonly identity: Identity;
  /** Whatever the auth backend keeps with the session (JSON). */
  readonly data: Record<string, unknown>;
  /** When the session stops being valid. */
  readonly expiresAt: Date;
}

/** Arguments of `createSession`. */
export interface NewSession {
  /** The secret the client presents (cookie value); only its sha256 is stored. */
  readonly token: string;
  /** Who logs in. */
  readonly identity: Identity;
  /** Backend data kept with the session (JSON; default `{}`). */
  readonly data?: Record<string, unknown>;
  /** Expiry; the session is invisible afterwards and `pruneSessions` deletes it. */
  readonly expiresAt: Date;
}

/** Fields `updateSession` may replace. */
export interface SessionPatch {
  /** New backend data (replaces the old object). */
  readonly data?: Record<string, unknown>;
  /** New expiry (e.g. sliding expiration). */
  readonly expiresAt?: Date;
  /** New identity (e.g. groups refreshed from the identity provider). */
  readonly identity?: Identity;
}

/** Which backend a storage runs on. */
export type StorageKind = 'postgres' | 'pglite' | 'memory';

/**
 * Persistent state of a server: cases, identities, sessions, plus `knex` for a service's own
 * tables. All instances of a service share it (postgres://); sessions live here so any
 * instance can serve any request.
 */
export interface FusionStorage {
  /** Query builder on the storage's database and schema, for services' own tables. */
  readonly knex: Knex;
  /** The backend (postgres, pglite or memory). */
  readonly kind: StorageKind;
  /** The schema holding the tables (postgres:// with the `schema` option), else undefined. */
  readonly schema: string | undefined;
  /** Applies pending migrations (the framework's, then the service's); safe to run from many instances at once. */
  migrate(): Promise<void>;
  /** Closes connections (and the embedded database); the storage is unusable afterwards. */
  close(): Promise<void>;
  /** Stores a new case; FUSION_ERR_CASE_EXISTS when its guid is taken (nothing changes then). */
  createCase<C extends Case>(c: C): Promise<C>;
  /** The case with `guid` decoded with `caseClass` (subclass fields included), or null. */
  retrieveCase<C extends Case>(caseClass: CaseClass<C>, guid: string): Promise<C | null>;
  /** Replaces the stored document of `c` (matched by guid); FUSION_ERR_CASE_NOT_FOUND if missing. */
  updateCase<C extends Case>(c: C): Promise<C>;
  /** Deletes the case; false when there was none. */
  deleteCase(guid: string): Promise<boolean>;
  /** Cases visible to `filter.acs` (every case when undefined), oldest first (created, then guid). */
  enumerateCases<C extends Case>(caseClass: CaseClass<C>, filter?: CaseFilter): Promise<C[]>;
  /**
   * Re-keys case `guid` to `nextGuid` and marks it managed (edf_fusion's attach), atomically.
   * Null when `guid` does not exist; FUSION_ERR_CASE_EXISTS when `nextGuid` is another case;
   * FUSION_ERR_CASE_MANAGED when the case is managed already.
   */
  attachCase<C extends Case>(caseClass: CaseClass<C>, guid: string, nextGuid: string): Promise<C | null>;
  /** Inserts or replaces the identity (by username). */
  storeIdentity(identity: Identity): Promise<void>;
  /** Every stored identity, by username; with `page`, at most `limit` after username `after`, in byte order. */
  enumerateIdentities(page?: KeyPage): Promise<Identity[]>;
  /** Stores a session under sha256(token). */
  createSession(session: NewSession): Promise<void>;
  /** The session of `token`, or null when unknown or expired. */
  retrieveSession(token: string): Promise<StoredSession | null>;
  /** Replaces the given fields of the session of `token` (no-op when unknown). */
  updateSession(token: string, patch: SessionPatch): Promise<void>;
  /** Deletes the session of `token` (no-op when unknown). */
  deleteSession(token: string): Promise<void>;
  /** Deletes expired sessions; returns how many. */
  pruneSessions(): Promise<number>;
  /**
   * Runs `fn` while holding the named lock, across every instance on this database and schema;
   * `fn` may take an AbortSignal that fires if the lock is lost (PostgreSQL connection broken).
   */
  withAdvisoryLock<T>(key: string, fn: LockedFunction<T>): Promise<T>;
  /** Runs `fn` under the named lock only if it is free now (singleton tasks skip a busy turn). */
  tryAdvisoryLock<T>(key: string, fn: LockedFunction<T>): Promise<LockAttempt<T>>;
  /**
   * Runs `fn` in one database transaction: `tx` has the same data methods bound to it, and
   * `tx.knex` is the knex transaction (a service's own tables). All of it commits when `fn`
   * resolves, nothing when it throws. Inside, `tx.transaction()` reuses the transaction (no
   * savepoint), and this storage's data methods called from `fn` join it too. `tx`'s
   * advisory locks, `migrate` and `close` throw FUSION_ERR_STORAGE: take locks before opening
   * the transaction. On PGlite (one connection) a query on `knex` of the root storage inside
   * `fn` waits for the transaction to end, i.e. forever: use `tx.knex`.
   */
  transaction<T>(fn: (tx: FusionStorage) => Promise<T>): Promise<T>;
}
