/**
 * Schema migrations, declared in code (no files on disk: they run the same from `src` under
 * jest and from `dist`). The framework's own list comes first; services append theirs with
 * `openStorage(url, { migrations })`.
 */
import type { Knex } from 'knex';
import { FusionError } from '../../helper/errors.js';
import { ANALYSIS_MIGRATION } from '../analyzer/migration.js';
import { CLOUD_MIGRATION } from '../cloud/migration.js';
import { CONNECTION_MIGRATION } from '../connection/tables.js';
import { RPC_MIGRATION, RPC_TRACE_MIGRATION } from '../rpc/tables.js';

/** One schema change. `name` is recorded once applied; never rename or edit an applied one. */
export interface StorageMigration {
  /** Unique, stable name; prefix it with your service: `timeline/0001_marks`. */
  readonly name: string;
  /** Applies the change; `knex` is bound to the migration's transaction. */
  up(knex: Knex): Promise<void>;
  /** Reverts the change (optional; the framework never rolls back by itself). */
  down?(knex: Knex): Promise<void>;
}

/** Table (in the storage schema) recording applied migrations; its lock table gets `_lock`. */
export const MIGRATIONS_TABLE = 'fusion_migrations';

/** The framework's own migrations, in order. Append new ones at the end. */
export const FUSION_MIGRATIONS: readonly StorageMigration[] = [
  {
    name: 'fusion/0001_case_identity_session',
    async up(knex) {
      await knex.schema.createTable('fusion_case', (t) => {
        t.uuid('guid').primary();
        t.boolean('managed').notNullable().defaultTo(false);
        t.timestamp('created', { useTz: true }).notNullable();
        t.timestamp('updated', { useTz: true }).nullable();
        t.timestamp('closed', { useTz: true }).nullable();
        t.text('name').notNullable();
        t.specificType('acs', 'text[]').notNullable().defaultTo(knex.raw(`'{}'::text[]`));
        t.jsonb('document').notNullable();
        t.index(['created', 'guid'], 'fusion_case_created_idx');
      });
      await knex.raw('CREATE INDEX fusion_case_acs_idx ON fusion_case USING gin (acs)');
      await knex.schema.createTable('fusion_identity', (t) => {
        t.text('username').primary();
        t.jsonb('document').notNullable();
        t.timestamp('updated_at', { useTz: true }).notNullable();
      });
      await knex.schema.createTable('fusion_session', (t) => {
        t.text('token_hash').primary();
        t.text('username').notNullable();
        t.jsonb('identity').notNullable();
        t.jsonb('data').notNullable().defaultTo(knex.raw(`'{}'::jsonb`));
        t.timestamp('created_at', { useTz: true }).notNullable();
        t.timestamp('expires_at', { useTz: true }).notNullable();
        t.index(['expires_at'], 'fusion_session_expires_idx');
        t.index(['username'], 'fusion_session_username_idx');
      });
    },
    async down(knex) {
      await knex.schema.dropTable('fusion_session');
      await knex.schema.dropTable('fusion_identity');
      await knex.schema.dropTable('fusion_case');
    },
  },
  {
    // Pending one-time download keys (src/server/download): any instance can serve any key.
    name: 'fusion/0002_pending_download',
    async up(knex) {
      await knex.schema.createTable('fusion_pending_download', (t) => {
        t.uuid('guid').primary();
        t.text('token_hash').notNullable();
        t.text('filepath').notNullable();
        t.text('filename').notNullable();
        t.text('kind').notNullable().checkIn(['file', 'directory'], 'fusion_pending_download_kind_check');
        t.timestamp('created_at', { useTz: true }).notNullable();
        t.timestamp('expires_at', { useTz: true }).notNullable();
        t.text('resume_hash').nullable();
        t.index(['expires_at'], 'fusion_pending_download_expires_idx');
      });
    },
    async down(knex) {
      await knex.schema.dropTable('fusion_pending_download');
    },
  },
  {
    // Events (src/server/event): the append-only log SSE streams resume from, who is subscribed
    // to which case on which instance, and the highest id the retention prune deleted.
    name: 'fusion/0003_event',
    async up(knex) {
      await knex.schema.createTable('fusion_event', (t) => {
        t.bigIncrements('id').primary();
        t.uuid('case_guid').notNullable();
        t.text('category').notNullable();
        t.jsonb('document').notNullable();
        t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.index(['case_guid', 'id'], 'fusion_event_case_idx');
      });
      await knex.schema.createTable('fusion_event_presence', (t) => {
        t.uuid('case_guid').notNullable();
        t.text('username').notNullable();
        t.uuid('instance_id').notNullable();
        t.timestamp('expires_at', { useTz: true }).notNullable();
        t.primary(['case_guid', 'username', 'instance_id']);
        t.index(['instance_id'], 'fusion_event_presence_instance_idx');
      });
      await knex.schema.createTable('fusion_event_horizon', (t) => {
        t.integer('id').primary();
        t.bigInteger('pruned_through').notNullable();
      });
      await knex('fusion_event_horizon').insert({ id: 1, pruned_through: 0 });
    },
    async down(knex) {
      await knex.schema.dropTable('fusion_event_horizon');
      await knex.schema.dropTable('fusion_event_presence');
      await knex.schema.dropTable('fusion_event');
    },
  },
  {
    // Webhook deliveries (src/server/event/webhook): one row per event and target URL, claimed
    // with FOR UPDATE SKIP LOCKED; endpoints disabled by a 410 or a whole deadline of failures.
    name: 'fusion/0004_webhook_delivery',
    async up(knex) {
      await knex.schema.createTable('fusion_webhook_delivery', (t) => {
        t.bigIncrements('id').primary();
        t.bigInteger('event_id').notNullable();
        t.text('webhook_id').notNullable();
        t.text('url').notNullable();
        t.text('body').notNullable();
        t.integer('attempt').notNullable().defaultTo(0);
        t.timestamp('next_attempt_at', { useTz: true }).notNullable();
        t.timestamp('deadline_at', { useTz: true }).notNullable();
        t.text('status').notNullable().checkIn(['pending', 'delivered', 'failed', 'disabled'], 'fusion_webhook_delivery_status_check');
        t.text('last_error').nullable();
        t.timestamp('created_at', { useTz: true }).notNullable();
        t.timestamp('updated_at', { useTz: true }).notNullable();
        t.unique(['event_id', 'url'], { indexName: 'fusion_webhook_delivery_event_url_key' });
        t.index(['url', 'status'], 'fusion_webhook_delivery_url_idx');
        t.index(['status', 'updated_at'], 'fusion_webhook_delivery_status_idx');
      });
      await knex.raw(`CREATE INDEX fusion_webhook_delivery_due_idx ON fusion_webhook_delivery (next_attempt_at) WHERE status = 'pending'`);
      await knex.schema.createTable('fusion_webhook_endpoint', (t) => {
        t.text('url').primary();
        t.timestamp('disabled_at', { useTz: true }).nullable();
        t.text('reason').nullable();
      });
    },
    async down(knex) {
      await knex.schema.dropTable('fusion_webhook_endpoint');
      await knex.schema.dropTable('fusion_webhook_delivery');
    },
  },
  // Cloud files and role assignments (src/server/cloud).
  CLOUD_MIGRATION,
  {
    // The trace context (W3C traceparent, JSON) of the request that caused a delivery, so the
    // attempt, made later and maybe by another instance, continues that trace.
    name: 'fusion/0005_webhook_trace_context',
    async up(knex) {
      await knex.schema.alterTable('fusion_webhook_delivery', (t) => {
        t.text('trace_context').nullable();
      });
    },
    async down(knex) {
      await knex.schema.alterTable('fusion_webhook_delivery', (t) => {
        t.dropColumn('trace_context');
      });
    },
  },
  {
    // One-time links to cloud files: `filepath` holds the cloud path, served from the cloud
    // driver by whichever instance gets the GET (src/server/download/cloud-link.ts).
    name: 'fusion/0006_pending_download_cloud',
    async up(knex) {
      await knex.raw(`ALTER TABLE fusion_pending_download DROP CONSTRAINT fusion_pending_download_kind_check`);
      await knex.raw(`ALTER TABLE fusion_pending_download ADD CONSTRAINT fusion_pending_download_kind_check CHECK (kind IN ('file', 'directory', 'cloud'))`);
    },
    async down(knex) {
      await knex.raw(`DELETE FROM fusion_pending_download WHERE kind = 'cloud'`);
      await knex.raw(`ALTER TABLE fusion_pending_download DROP CONSTRAINT fusion_pending_download_kind_check`);
      await knex.raw(`ALTER TABLE fusion_pending_download ADD CONSTRAINT fusion_pending_download_kind_check CHECK (kind IN ('file', 'directory'))`);
    },
  },
  // Analyses (src/server/analyzer); pg-boss keeps its own tables in their own schema, under its own versioned migrations.
  ANALYSIS_MIGRATION,
  // The connection registry (RPC and TCP connections of every instance) and the RPC channels
  // and tickets. Until 2026-12-06 their APIs applied these at start under the same names, so
  // databases that have them already skip them.
  CONNECTION_MIGRATION,
  RPC_MIGRATION,
  RPC_TRACE_MIGRATION,
];

/** Checks a migration list: every entry has a non-empty unique name and an `up` function. */
export function checkMigrations(migrations: readonly StorageMigration[]): void {
  const seen = new Set<string>();
  for (const [index, migration] of migrations.entries()) {
    const name: unknown = migration?.name;
    if (typeof name !== 'string' || name.trim() === '') {
      throw new FusionError('FUSION_ERR_STORAGE', `migration #${index} has no name: give each migration a unique, stable name such as "myservice/0001_tables"`);
    }
    if (typeof migration.up !== 'function') {
      throw new FusionError('FUSION_ERR_STORAGE', `migration "${name}" has no up(knex) function`);
    }
    if (seen.has(name)) {
      throw new FusionError('FUSION_ERR_STORAGE', `migration name "${name}" appears twice: prefix your migrations with your service name`);
    }
    seen.add(name);
  }
}

/** A knex migration source serving `migrations` from memory, in the given order. */
export function inMemoryMigrationSource(migrations: readonly StorageMigration[]): Knex.MigrationSource<StorageMigration> {
  return {
    getMigrations: async () => [...migrations],
    getMigrationName: (migration) => migration.name,
    // knex insists on both functions; a missing down() refuses at rollback time.
    getMigration: async (migration) => ({
      up: (knex: Knex) => migration.up(knex),
      down: async (knex: Knex) => {
        if (!migration.down) {
          throw new FusionError('FUSION_ERR_STORAGE', `migration "${migration.name}" has no down(knex): it cannot be rolled back`);
        }
        await migration.down(knex);
      },
    }),
  };
}

/**
 * Applies the migrations of `migrations` not yet recorded. Callers serialize concurrent runs
 * (KnexStorage.migrate holds an advisory lock): knex's own lock table does not make two
 * first-time runs safe, since both may try to create the bookkeeping tables at once.
 * Applied migrations missing from the list are tolerated (a server without an optional API
 * may open a database another configuration migrated).
 */
export async function applyMigrations(knex: Knex, migrations: readonly StorageMigration[], schema?: string): Promise<string[]> {
  if (await allApplied(knex, migrations, schema)) return [];
  const [, applied] = (await knex.migrate.latest({
    migrationSource: inMemoryMigrationSource(migrations),
    tableName: MIGRATIONS_TABLE,
    ...(schema ? { schemaName: schema } : {}),
    disableMigrationsListValidation: true,
  })) as [number, string[]];
  return applied;
}

/**
 * True when every migration of `migrations` is recorded: two cheap queries instead of knex's
 * full check (lock table, list, a transaction that repeats it: ~13 queries and, on PGlite,
 * ~150 ms of CPU at every start).
 */
async function allApplied(knex: Knex, migrations: readonly StorageMigration[], schema: string | undefined): Promise<boolean> {
  const qualified = schema ? `"${schema}"."${MIGRATIONS_TABLE}"` : MIGRATIONS_TABLE;
  const { rows } = (await knex.raw('SELECT to_regclass(?) IS NOT NULL AS present', [qualified])) as { rows: { present: boolean }[] };
  if (rows[0]?.present !== true) return false;
  const table = schema ? knex.withSchema(schema).from(MIGRATIONS_TABLE) : knex.from(MIGRATIONS_TABLE);
  const recorded = new Set((await table.select<{ name: string }[]>('name')).map((row) => row.name));
  return migrations.every((migration) => recorded.has(migration.name));
}
