import { describe, expect, it } from '@jest/globals';
import type { Knex } from 'knex';
import { FUSION_MIGRATIONS, MIGRATIONS_TABLE, applyMigrations, checkMigrations } from '../../../src/server/storage/migrations.js';
import type { StorageMigration } from '../../../src/server/storage/migrations.js';
import { openStorage } from '../../../src/server/storage/open-storage.js';
import { TEST_PG_URL, describeStorage, freshStorage, isCi, pgUnavailableReason, quietLogger, randomSchemaName } from '../../helpers/storage.js';

const SERVICE_MIGRATIONS: StorageMigration[] = [
  {
    name: 'svc/0001_widget',
    async up(knex) {
      await knex.schema.createTable('svc_widget', (t) => {
        t.increments('id');
        t.text('label').notNullable();
      });
    },
  },
  {
    name: 'svc/0002_widget_color',
    async up(knex) {
      await knex.schema.alterTable('svc_widget', (t) => {
        t.text('color').notNullable().defaultTo('red');
      });
    },
  },
];

async function appliedNames(knex: Knex): Promise<string[]> {
  const rows = await knex(MIGRATIONS_TABLE).orderBy('id').select<{ name: string }[]>('name');
  return rows.map((row) => row.name);
}

async function tableExists(knex: Knex, table: string): Promise<boolean> {
  const result = await knex.raw<{ rows: { found: string | null }[] }>('SELECT to_regclass(?) AS found', [table]);
  return result.rows[0]?.found !== null;
}

describe('checkMigrations', () => {
  it('accepts the framework list', () => {
    expect(() => checkMigrations(FUSION_MIGRATIONS)).not.toThrow();
  });

  it('refuses duplicate names, empty names and missing up()', () => {
    const up = async (): Promise<void> => undefined;
    expect(() => checkMigrations([{ name: 'a', up }, { name: 'a', up }])).toThrow(/appears twice/);
    expect(() => checkMigrations([{ name: ' ', up }])).toThrow(/has no name/);
    expect(() => checkMigrations([{ name: 'x' } as unknown as StorageMigration])).toThrow(/has no up/);
  });

  it('is applied by openStorage before anything opens', async () => {
    await expect(openStorage('memory://', { migrations: [{ name: FUSION_MIGRATIONS[0]!.name, up: async () => undefined }] })).rejects.toMatchObject({
      code: 'FUSION_ERR_STORAGE',
      message: expect.stringContaining('appears twice'),
    });
  });
});

describeStorage(
  'storage: migrations',
  (getStorage, kind) => {
    it('creates the framework tables, then the service tables, in order', async () => {
      const storage = getStorage();
      for (const table of ['fusion_case', 'fusion_identity', 'fusion_session', 'svc_widget']) {
        expect(await tableExists(storage.knex, table)).toBe(true);
      }
      expect(await appliedNames(storage.knex)).toEqual([...FUSION_MIGRATIONS.map((m) => m.name), 'svc/0001_widget', 'svc/0002_widget_color']);
      await storage.knex('svc_widget').insert({ label: 'w' });
      expect(await storage.knex('svc_widget').first()).toMatchObject({ label: 'w', color: 'red' });
    });

    it('is idempotent, also when run concurrently on one storage', async () => {
      const storage = getStorage();
      const before = await appliedNames(storage.knex);
      await storage.migrate();
      await Promise.all([storage.migrate(), storage.migrate(), storage.migrate()]);
      expect(await appliedNames(storage.knex)).toEqual(before);
    });

    it('creates the GIN index on acs', async () => {
      const storage = getStorage();
      const result = await storage.knex.raw<{ rows: { indexdef: string }[] }>(
        `SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND indexname = 'fusion_case_acs_idx'`,
      );
      expect(result.rows[0]?.indexdef).toMatch(/USING gin \(acs\)/);
    });

    if (kind === 'postgres') {
      it('keeps the tables in the configured schema', async () => {
        const storage = getStorage();
        const result = await storage.knex.raw<{ rows: { table_name: string }[] }>(
          `SELECT table_name FROM information_schema.tables WHERE table_schema = ? ORDER BY table_name`,
          [storage.schema!],
        );
        expect(result.rows.map((row) => row.table_name)).toEqual(
          expect.arrayContaining(['fusion_case', 'fusion_identity', 'fusion_migrations', 'fusion_migrations_lock', 'fusion_session', 'svc_widget']),
        );
      });
    }
  },
  { migrations: SERVICE_MIGRATIONS },
);

describeStorage('storage: the connection and RPC tables, once applied by their APIs', (getStorage) => {
  it('are framework migrations now; a database where the APIs applied them at start keeps its rows', async () => {
    const storage = getStorage();
    const names = FUSION_MIGRATIONS.map((m) => m.name);
    expect(names.slice(-3)).toEqual(['fusion/connection_0001', 'fusion/rpc_0001', 'fusion/rpc_0002_message_trace_context']);
    expect(await tableExists(storage.knex, 'fusion_connection')).toBe(true);
    expect(await tableExists(storage.knex, 'fusion_rpc_member')).toBe(true);
    // The old way: the framework list without them, then each API applied its own at start (same names).
    await storage.knex.raw('DROP TABLE fusion_rpc_ticket, fusion_rpc_member, fusion_rpc_message, fusion_rpc_channel, fusion_connection_message, fusion_connection');
    await storage.knex(MIGRATIONS_TABLE).whereIn('name', names.slice(-3)).delete();
    await applyMigrations(storage.knex, FUSION_MIGRATIONS.slice(0, -3), storage.schema);
    await applyMigrations(storage.knex, FUSION_MIGRATIONS.slice(-3, -2), storage.schema);
    await applyMigrations(storage.knex, FUSION_MIGRATIONS.slice(-2, -1), storage.schema);
    await storage.knex.raw(`INSERT INTO fusion_rpc_channel (name, pruned_through) VALUES ('room/kept', 7)`);
    // Later framework migrations (the messages' trace context) apply on top.
    await storage.migrate();
    expect(await storage.knex('fusion_rpc_channel').select('name', 'pruned_through')).toEqual([{ name: 'room/kept', pruned_through: expect.anything() }]);
    expect(await storage.knex.schema.hasColumn('fusion_rpc_message', 'trace_context')).toBe(true);
    expect((await appliedNames(storage.knex)).filter((name) => name.endsWith('_0001') && /connection|rpc/.test(name))).toEqual(['fusion/connection_0001', 'fusion/rpc_0001']);
  });
}, { logger: quietLogger });

describeStorage('storage: migration failures', (getStorage) => {
  it('rolls back a failing migration and applies it once fixed', async () => {
    const storage = getStorage();
    const failing: StorageMigration = {
      name: 'broken/0001',
      async up(knex) {
        await knex.schema.createTable('broken_table', (t) => t.increments('id'));
        await knex.raw('SELECT * FROM no_such_table');
      },
    };
    await expect(applyMigrations(storage.knex, [...FUSION_MIGRATIONS, failing], storage.schema)).rejects.toThrow(/no_such_table/);
    expect(await tableExists(storage.knex, 'broken_table')).toBe(false);
    expect(await appliedNames(storage.knex)).not.toContain('broken/0001');
    const fixed: StorageMigration = { name: 'broken/0001', up: (knex) => knex.schema.createTable('broken_table', (t) => t.increments('id')) };
    await applyMigrations(storage.knex, [...FUSION_MIGRATIONS, fixed], storage.schema);
    expect(await tableExists(storage.knex, 'broken_table')).toBe(true);
    // Later opened without that migration (e.g. an optional API switched off): still fine.
    await storage.migrate();
    expect(await appliedNames(storage.knex)).toContain('broken/0001');
  });
}, { logger: quietLogger });

const pgReason = pgUnavailableReason();
const describePg = pgReason === null || isCi() ? describe : describe.skip;

describePg('storage: concurrent migrations on PostgreSQL', () => {
  it('lets several instances migrate one fresh schema at once', async () => {
    if (pgReason !== null) throw new Error(pgReason);
    const schema = randomSchemaName();
    const storages = await Promise.all([1, 2, 3].map(() => openStorage(TEST_PG_URL, { schema, migrations: SERVICE_MIGRATIONS })));
    try {
      await Promise.all(storages.map((storage) => storage.migrate()));
      const names = await appliedNames(storages[0]!.knex);
      expect(names).toEqual([...FUSION_MIGRATIONS.map((m) => m.name), ...SERVICE_MIGRATIONS.map((m) => m.name)]);
      const lock = await storages[0]!.knex('fusion_migrations_lock').select('is_locked');
      expect(lock).toEqual([{ is_locked: 0 }]);
    } finally {
      await storages[0]!.knex.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [schema]);
      await Promise.all(storages.map((storage) => storage.close()));
    }
  });

  it('migrates a storage opened on a schema another storage created', async () => {
    if (pgReason !== null) throw new Error(pgReason);
    const first = await freshStorage('postgres');
    const second = await openStorage(TEST_PG_URL, { schema: first.schema! });
    try {
      await second.migrate();
      expect(await appliedNames(second.knex)).toEqual(FUSION_MIGRATIONS.map((m) => m.name));
    } finally {
      await second.close();
      await first.close();
    }
  });
});
