/**
 * Storage for tests: the same suite against real PostgreSQL and against PGlite.
 *
 * - `describeStorage(title, (getStorage, kind) => { it(...) })` registers the suite twice:
 *   `postgres` (env FUSION_TEST_PG_URL, default postgres://postgres@127.0.0.1:5432/test, a
 *   fresh random schema per suite, dropped in afterAll, so suites run in parallel in separate
 *   jest workers) and `pglite` (in memory, loaded from a migrated template, see
 *   pglite-template.ts). One storage per suite (per `describeStorage` call), created in
 *   beforeAll and closed in afterAll, after the suite's own afterAll hooks: tests in a suite share it, so make rows unique (fresh
 *   guids, random usernames) or call `clearStorage`.
 * - When PostgreSQL does not answer, the postgres variant is skipped with a console warning
 *   giving the reason; under CI=true it fails with that reason instead.
 * - `freshStorage(kind)` gives one migrated storage for tests written another way; its
 *   `close()` also drops the postgres schema.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe } from '@jest/globals';
import type { StorageMigration } from '../../src/server/storage/migrations.js';
import { openPgliteStorage, openStorage } from '../../src/server/storage/open-storage.js';
import type { StorageLogger } from '../../src/server/storage/open-storage.js';
import type { KnexStorage } from '../../src/server/storage/knex-storage.js';
import { TEST_PG_URL, pgAvailable, pgUnavailableReason } from './pg-probe.js';
import { newMigratedPglite } from './pglite-template.js';

export { TEST_PG_URL, pgAvailable, pgUnavailableReason };

/** The backends tests run against. */
export type TestStorageKind = 'postgres' | 'pglite';

/** Options of freshStorage and describeStorage. */
export interface TestStorageOptions {
  /** A service's own migrations, applied after the framework's. */
  readonly migrations?: readonly StorageMigration[];
  /** Logger for knex warnings. */
  readonly logger?: StorageLogger;
}

const SETUP_TIMEOUT_MS = 120_000;

/** A logger that drops everything (for tests that provoke knex warnings on purpose). */
export const quietLogger: StorageLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/** A schema name no other suite uses: `fusion_test_` + 12 random hex digits. */
export function randomSchemaName(): string {
  return `fusion_test_${randomBytes(6).toString('hex')}`;
}

/** True when CI=true (or 1): missing services then fail tests instead of skipping them. */
export function isCi(): boolean {
  return ['true', '1'].includes((process.env.CI ?? '').toLowerCase());
}

/**
 * A new, migrated storage of the given kind. postgres: a fresh schema in the test database,
 * dropped by `close()`; throws with the reason when PostgreSQL is unavailable. pglite: an
 * in-memory PGlite loaded from the migrated template. Always `await storage.close()`.
 */
export async function freshStorage(kind: TestStorageKind, options: TestStorageOptions = {}): Promise<KnexStorage> {
  const openOptions = {
    ...(options.migrations ? { migrations: options.migrations } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  };
  if (kind === 'pglite') {
    const storage = openPgliteStorage(await newMigratedPglite(), openOptions);
    try {
      await storage.migrate(); // the service's migrations; the framework's are in the template
    } catch (error) {
      await storage.close();
      throw error;
    }
    return storage;
  }
  const reason = pgUnavailableReason();
  if (reason !== null) throw new Error(reason);
  const schema = randomSchemaName();
  const storage = dropSchemaOnClose(await openStorage(TEST_PG_URL, { ...openOptions, schema }), schema);
  try {
    await storage.migrate();
  } catch (error) {
    await storage.close();
    throw error;
  }
  return storage;
}

function dropSchemaOnClose(storage: KnexStorage, schema: string): KnexStorage {
  const close = storage.close.bind(storage);
  let closing: Promise<void> | undefined;
  storage.close = () => {
    closing ??= (async () => {
      try {
        await storage.knex.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [schema]);
      } finally {
        await close();
      }
    })();
    return closing;
  };
  return storage;
}

/** Empties every table of the storage except the migration bookkeeping. */
export async function clearStorage(storage: KnexStorage): Promise<void> {
  const result = await storage.knex.raw<{ rows: { tablename: string }[] }>(
    `SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename NOT LIKE 'fusion_migrations%'`,
  );
  const tables = result.rows.map((row) => row.tablename);
  if (tables.length > 0) await storage.knex.raw(`TRUNCATE ${tables.map(() => '??').join(', ')} CASCADE`, tables);
}

/** Registers `suite` once per backend (postgres, pglite), each with its own fresh storage. */
export function describeStorage(
  title: string,
  suite: (getStorage: () => KnexStorage, kind: TestStorageKind) => void,
  options: TestStorageOptions = {},
): void {
  describe(title, () => {
    const reason = pgUnavailableReason();
    if (reason === null) {
      describe('postgres', () => register('postgres'));
    } else if (isCi()) {
      describe('postgres', () => {
        beforeAll(() => {
          throw new Error(reason);
        });
        register('postgres');
      });
    } else {
      console.warn(`${title} [postgres] skipped: ${reason}`);
      describe.skip('postgres', () => register('postgres'));
    }
    describe('pglite', () => register('pglite'));
  });

  function register(kind: TestStorageKind): void {
    let storage: KnexStorage | undefined;
    beforeAll(async () => {
      storage = await freshStorage(kind, options);
    }, SETUP_TIMEOUT_MS);
    suite(() => {
      if (!storage) throw new Error(`${title} [${kind}]: the storage is not open (did beforeAll fail?)`);
      return storage;
    }, kind);
    // Declared after the suite's hooks: jest runs the afterAll hooks of one block in declaration
    // order, and the storage must close after whatever the suite's afterAll closes on it (a
    // server closed after its storage had its webhook worker still querying a dropped schema).
    afterAll(async () => {
      await storage?.close();
    });
  }
}
