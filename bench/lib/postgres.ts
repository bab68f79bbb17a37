/**
 * PostgreSQL for benchmarks: the database of `FUSION_BENCH_PG_URL` (default the project's
 * test database), one fresh schema per run, dropped at the end.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The database benchmarks use. */
export const BENCH_PG_URL = process.env.FUSION_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A fresh, empty schema name (`bench_<name>_<random>`); the server's migrate() creates it. */
export function freshSchemaName(name: string): string {
  return `bench_${name.replace(/[^a-z0-9_]/g, '_')}_${randomBytes(4).toString('hex')}`;
}

/** Runs one SQL statement on its own connection. */
export async function runSql(sql: string, url = BENCH_PG_URL): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Drops the schema and everything in it. */
export function dropSchema(schema: string, url = BENCH_PG_URL): Promise<void> {
  return runSql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`, url);
}
