/** Public surface of the storage layer (re-exported by fusion-framework/server). */
export { openStorage, openPgliteStorage } from './open-storage.js';
export type { OpenStorageOptions, PgliteInstance, StorageLogger } from './open-storage.js';
export { KnexStorage, MIGRATION_LOCK_KEY } from './knex-storage.js';
export type { KnexStorageOptions } from './knex-storage.js';
export type {
  CaseClass,
  CaseFilter,
  KeyPage,
  FusionStorage,
  LockAttempt,
  LockedFunction,
  NewSession,
  SessionPatch,
  StorageKind,
  StoredSession,
} from './storage.js';
export { FUSION_MIGRATIONS, MIGRATIONS_TABLE } from './migrations.js';
export type { StorageMigration } from './migrations.js';
export { STORAGE_URL_FORMS, parseStorageUrl, redactStorageUrl } from './storage-url.js';
export type { StorageLocation } from './storage-url.js';
export { advisoryLockId } from './advisory-lock.js';
export { affectedRows } from './affected-rows.js';
export { CASE_TABLE } from './case-rows.js';
export { IDENTITY_TABLE, SESSION_TABLE, hashToken } from './session-rows.js';
