/** A snapshot of storage that a refused request must leave as it was (shared by the hostile suites). */
import type { KnexStorage } from '../../../src/server/storage/knex-storage.js';

/** Every table's rows, migrations and sessions excepted (a login refreshes sessions). */
export async function storageState(storage: KnexStorage): Promise<Record<string, unknown[]>> {
  const { rows } = await storage.knex.raw<{ rows: { tablename: string }[] }>(
    `SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename NOT LIKE 'fusion_migrations%' AND tablename <> 'fusion_session' ORDER BY tablename`,
  );
  const state: Record<string, unknown[]> = {};
  for (const { tablename } of rows) state[tablename] = await storage.knex(tablename).select('*').orderByRaw('1');
  return state;
}
