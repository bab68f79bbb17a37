/**
 * The analyses table, one row per case and analyzer (src/server/analyzer). Appended to
 * FUSION_MIGRATIONS. Databases that served analyses before this migration existed already
 * have the table (the analyzer runtime created it at start): `IF NOT EXISTS` makes the
 * migration a no-op there (it only adds `trace_context`), so they are recorded as migrated
 * and keep their rows.
 */
import type { Knex } from 'knex';

/** The table name. */
export const ANALYSIS_TABLE = 'fusion_analysis';

/** A StorageMigration (declared here by shape: storage/migrations.ts imports this file). */
interface AnalysisMigration {
  readonly name: string;
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

/** Migration `fusion/0007_analysis`: table fusion_analysis (with trace_context) and its (analyzer, status) index. */
export const ANALYSIS_MIGRATION: AnalysisMigration = {
  name: 'fusion/0007_analysis',
  async up(knex) {
    await knex.raw(`
      CREATE TABLE IF NOT EXISTS ${ANALYSIS_TABLE} (
        case_guid uuid NOT NULL,
        analyzer text NOT NULL,
        status text NOT NULL,
        priority text NOT NULL,
        created timestamptz NOT NULL,
        updated timestamptz,
        started timestamptz,
        finished timestamptz,
        error text,
        attempts integer NOT NULL DEFAULT 0,
        job_id uuid,
        owner text,
        lease_until timestamptz,
        trace_context text,
        PRIMARY KEY (case_guid, analyzer)
      )`);
    // The trace context (W3C traceparent, JSON) of the request that queued the analysis.
    await knex.raw(`ALTER TABLE ${ANALYSIS_TABLE} ADD COLUMN IF NOT EXISTS trace_context text`);
    await knex.raw(`CREATE INDEX IF NOT EXISTS ${ANALYSIS_TABLE}_analyzer_status ON ${ANALYSIS_TABLE} (analyzer, status)`);
  },
  async down(knex) {
    await knex.schema.dropTable(ANALYSIS_TABLE);
  },
};
