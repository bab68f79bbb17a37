/** Opens a FusionStorage from its URL: postgres:// (pg pool), pglite://DIR, memory://. */
import knex from 'knex';
import type { Knex } from 'knex';
import ClientPgLite from 'knex-pglite';
import type { Logger } from 'pino';
import { ConfigError } from '../../helper/config.js';
import { FusionError } from '../../helper/errors.js';
import { getLogger } from '../../helper/logging.js';
import { LocalLocker, PgAdvisoryLocker } from './advisory-lock.js';
import { KnexStorage } from './knex-storage.js';
import { FUSION_MIGRATIONS, checkMigrations } from './migrations.js';
import type { StorageMigration } from './migrations.js';
import { createPglite } from './pglite-create.js';
import type { CreatedPglite } from './pglite-create.js';
import { migratedTemplateKey } from './pglite-template.js';
import { parseStorageUrl } from './storage-url.js';

/** The logger methods storage uses (a pino logger fits). */
export type StorageLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

/**
 * What openPgliteStorage needs of a PGlite instance (a `PGlite` fits). Declared here so that the
 * package's public types do not pull in PGlite's, which need @types/emscripten to compile.
 */
export interface PgliteInstance {
  readonly closed: boolean;
  readonly waitReady: Promise<void>;
  query<T>(sql: string, params?: unknown[]): Promise<{ rows: T[] }>;
  close(): Promise<void>;
}

/** Options of openStorage. */
export interface OpenStorageOptions {
  /** Schema for the tables (knex searchPath); created by `migrate()` when missing. */
  readonly schema?: string;
  /** Receives knex warnings and lock-connection errors (default: the `server.storage` logger). */
  readonly logger?: StorageLogger;
  /** The service's migrations, applied after the framework's (names must be unique). */
  readonly migrations?: readonly StorageMigration[];
  /** Directory relative `pglite://` paths resolve against (default: the current directory). */
  readonly baseDir?: string;
  /** Most connections the postgres:// pool opens (default 10). */
  readonly poolMax?: number;
  /** How long to wait for a `pglite://DIR` lock held by another opener, in ms (default 12000: a dead holder's lock goes stale after 10 s). */
  readonly lockWaitMs?: number;
}

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * Opens the storage at `url`. Does not migrate: call `storage.migrate()` (servers do at start).
 * Throws ConfigError (`storage.url`, `storage.schema`) for bad settings and FUSION_ERR_STORAGE
 * when the database cannot be reached or opened.
 */
export async function openStorage(url: string, options: OpenStorageOptions = {}): Promise<KnexStorage> {
  const location = parseStorageUrl(url, options.baseDir === undefined ? {} : { baseDir: options.baseDir });
  const migrations = allMigrations(options);
  checkSchema(options.schema);
  if (location.kind === 'postgres') {
    return openPostgres(location.connectionString, location.display, migrations, options);
  }
  let release: (() => Promise<void>) | undefined;
  if (location.kind === 'pglite') {
    // Imported here: memory:// and postgres:// never load proper-lockfile.
    const { lockPgliteDir } = await import('./pglite-dir-lock.js');
    release = await lockPgliteDir(location.dir, {
      ...(options.lockWaitMs === undefined ? {} : { waitMs: options.lockWaitMs }),
      onCompromised: (error) => loggerOf(options)().error(`storage lock of ${location.display} compromised: ${error.message}`),
    });
  }
  let created: CreatedPglite;
  try {
    const key = migratedTemplateKey(migrations, options.schema);
    created = await createPglite(location.kind === 'pglite' ? location.dir : undefined, key, loggerOf(options)());
  } catch (error) {
    await release?.();
    throw new FusionError('FUSION_ERR_STORAGE', `cannot open ${location.display}: ${(error as Error).message}`, { cause: error });
  }
  // pglite:// holds a directory lock, memory:// a scratch directory to remove.
  return pgliteStorage(created.pglite, location.kind, migrations, options, release ?? created.cleanup, created.afterFirstMigration);
}

/**
 * Wraps a PGlite instance you created (e.g. a `clone()` of a migrated template, as the test
 * harness does) in a storage; `close()` closes the instance.
 */
export function openPgliteStorage(pglite: PgliteInstance, options: Omit<OpenStorageOptions, 'baseDir' | 'poolMax' | 'lockWaitMs'> = {}): KnexStorage {
  checkSchema(options.schema);
  return pgliteStorage(pglite, 'memory', allMigrations(options), options);
}

function allMigrations(options: OpenStorageOptions): StorageMigration[] {
  const migrations = [...FUSION_MIGRATIONS, ...(options.migrations ?? [])];
  checkMigrations(migrations);
  return migrations;
}

function checkSchema(schema: string | undefined): void {
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new ConfigError('storage.schema', `${JSON.stringify(schema)} is not a plain SQL identifier: use letters, digits and _ (at most 63), starting with a letter or _`);
  }
}

/** The logger of `options`, else the module logger (made on first use only). */
function loggerOf(options: OpenStorageOptions): () => StorageLogger {
  return () => options.logger ?? getLogger('server.storage');
}

function knexLog(logger: () => StorageLogger): Knex.Config['log'] {
  const text = (message: unknown): string => (typeof message === 'string' ? message : JSON.stringify(message));
  return {
    warn: (message: unknown) => logger().warn(`knex: ${text(message)}`),
    error: (message: unknown) => logger().error(`knex: ${text(message)}`),
    deprecate: (message: unknown) => logger().debug(`knex: ${text(message)}`),
    debug: (message: unknown) => logger().debug(`knex: ${text(message)}`),
  };
}

async function openPostgres(
  connectionString: string,
  display: string,
  migrations: StorageMigration[],
  options: OpenStorageOptions,
): Promise<KnexStorage> {
  const poolMax = options.poolMax ?? 10;
  if (!Number.isInteger(poolMax) || poolMax < 1) {
    throw new ConfigError('storage.pool_max', `must be an integer >= 1, got ${String(poolMax)}`);
  }
  const db = knex({
    client: 'pg',
    connection: { connectionString, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, application_name: 'fusion' },
    pool: { min: 0, max: poolMax },
    acquireConnectionTimeout: 60_000,
    ...(options.schema ? { searchPath: [options.schema] } : {}),
    log: knexLog(loggerOf(options)),
  });
  try {
    await db.raw('SELECT 1');
  } catch (error) {
    await db.destroy().catch(() => undefined);
    throw new FusionError('FUSION_ERR_STORAGE', `cannot connect to ${display}: ${(error as Error).message || String(error)}`, { cause: error });
  }
  const locker = new PgAdvisoryLocker({
    connectionString,
    namespace: options.schema ?? '',
    onError: (error) => loggerOf(options)().warn(`storage lock connection: ${error.message}`),
  });
  return new KnexStorage({ knex: db, kind: 'postgres', ...(options.schema ? { schema: options.schema } : {}), locker, migrations });
}

function pgliteStorage(
  pglite: PgliteInstance,
  kind: 'pglite' | 'memory',
  migrations: StorageMigration[],
  options: OpenStorageOptions,
  release?: () => Promise<void>,
  afterFirstMigration?: () => Promise<void>,
): KnexStorage {
  const db = knex({
    client: ClientPgLite,
    dialect: 'postgres',
    // knex-pglite takes an existing instance from a connection function.
    connection: (() => ({ pglite })) as unknown as Knex.Config['connection'],
    ...(options.schema ? { searchPath: [options.schema] } : {}),
    log: knexLog(loggerOf(options)),
  });
  return new KnexStorage({
    knex: db,
    kind,
    ...(options.schema ? { schema: options.schema } : {}),
    locker: new LocalLocker(),
    migrations,
    ...(afterFirstMigration ? { afterFirstMigration } : {}),
    onClose: async () => {
      try {
        if (!pglite.closed) await pglite.close();
      } finally {
        await release?.();
      }
    },
  });
}
