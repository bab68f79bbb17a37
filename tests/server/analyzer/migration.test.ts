// fusion_analysis comes with the numbered migrations; a database whose table the analyzer runtime created before them keeps it.
import { describe, expect, it } from '@jest/globals';
import { ANALYSIS_MIGRATION } from '../../../src/server/analyzer/migration.js';
import { FUSION_MIGRATIONS, MIGRATIONS_TABLE, applyMigrations } from '../../../src/server/storage/migrations.js';
import { openStorage } from '../../../src/server/storage/open-storage.js';
import { TEST_PG_URL, describeStorage, isCi, pgUnavailableReason, quietLogger, randomSchemaName } from '../../helpers/storage.js';

describeStorage(
  'fusion_analysis migration',
  (getStorage) => {
    it('is a numbered framework migration, applied with the others', async () => {
      const storage = getStorage();
      expect(FUSION_MIGRATIONS).toContain(ANALYSIS_MIGRATION);
      const names = (await storage.knex(MIGRATIONS_TABLE).select<{ name: string }[]>('name')).map((row) => row.name);
      expect(names).toContain('fusion/0007_analysis');
      const result = await storage.knex.raw<{ rows: { found: string | null }[] }>("SELECT to_regclass('fusion_analysis_analyzer_status') AS found");
      expect(result.rows[0]?.found).not.toBeNull();
    });
  },
  { logger: quietLogger },
);

const reason = pgUnavailableReason();
const describePg = reason === null || isCi() ? describe : describe.skip;

describePg('fusion_analysis on a database migrated before it (PostgreSQL)', () => {
  it('records the migration on the table the runtime created: rows kept, trace_context added', async () => {
    if (reason !== null) throw new Error(reason);
    const schema = randomSchemaName();
    const storage = await openStorage(TEST_PG_URL, { schema, logger: quietLogger });
    try {
      // The database as the previous release left it: every migration but this one, and the
      // table as ensureAnalysisTable created it at the first analyzer start.
      await storage.knex.raw('CREATE SCHEMA ??', [schema]);
      await applyMigrations(storage.knex, FUSION_MIGRATIONS.filter((migration) => migration !== ANALYSIS_MIGRATION), schema);
      await storage.knex.raw(`
        CREATE TABLE fusion_analysis (
          case_guid uuid NOT NULL, analyzer text NOT NULL, status text NOT NULL, priority text NOT NULL,
          created timestamptz NOT NULL, updated timestamptz, started timestamptz, finished timestamptz,
          error text, attempts integer NOT NULL DEFAULT 0, job_id uuid, owner text, lease_until timestamptz,
          PRIMARY KEY (case_guid, analyzer)
        )`);
      await storage.knex.raw('CREATE INDEX fusion_analysis_analyzer_status ON fusion_analysis (analyzer, status)');
      const row = { case_guid: '7c1d2a46-5a83-4ad0-9f6b-0a54d1f3b0aa', analyzer: 'hasher', status: 'success', priority: 'medium', created: new Date(), attempts: 1 };
      await storage.knex('fusion_analysis').insert(row);
      const before = (await storage.knex(MIGRATIONS_TABLE).select<{ name: string }[]>('name')).map((entry) => entry.name);
      expect(before).not.toContain('fusion/0007_analysis');
      await storage.migrate();
      const names = (await storage.knex(MIGRATIONS_TABLE).orderBy('id').select<{ name: string }[]>('name')).map((entry) => entry.name);
      expect(names.at(-1)).toBe('fusion/0007_analysis');
      expect(await storage.knex('fusion_analysis').select('case_guid', 'analyzer', 'status', 'trace_context')).toEqual([{ case_guid: row.case_guid, analyzer: 'hasher', status: 'success', trace_context: null }]);
    } finally {
      await storage.knex.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [schema]);
      await storage.close();
    }
  }, 60_000);
});
