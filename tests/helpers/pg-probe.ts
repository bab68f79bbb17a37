/**
 * Is the test PostgreSQL reachable? Answered synchronously (a child process connects and runs
 * `SELECT 1`), because jest registers `describe` blocks synchronously and needs to know then
 * whether to skip. The answer is computed once per test file (~0.2 s).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The PostgreSQL the tests use: env FUSION_TEST_PG_URL, else the project's standard test database. */
export const TEST_PG_URL = process.env.FUSION_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

const PROBE = `
const pg = require('pg');
const client = new pg.Client({ connectionString: process.env.FUSION_PROBE_URL, connectionTimeoutMillis: 4000 });
client.on('error', () => {});
client.connect()
  .then(() => client.query('SELECT 1'))
  .then(() => client.end())
  .then(() => process.exit(0), (e) => { process.stdout.write(String((e && (e.message || e.code)) || e)); process.exit(1); });
`;

let cached: string | null | undefined;

/** Why the test PostgreSQL cannot be used, or null when it answers. */
export function pgUnavailableReason(): string | null {
  if (cached !== undefined) return cached;
  const result = spawnSync(process.execPath, ['-e', PROBE], {
    cwd: REPO_ROOT,
    env: { ...process.env, FUSION_PROBE_URL: TEST_PG_URL },
    encoding: 'utf8',
    timeout: 10_000,
  });
  if (result.status === 0) {
    cached = null;
  } else {
    const detail = result.error?.message ?? (result.stdout.trim() || result.stderr.trim() || `exit status ${String(result.status)}`);
    cached = `PostgreSQL at ${TEST_PG_URL} is unavailable (${detail}); set FUSION_TEST_PG_URL or start it (see shared/TOOLCHAIN.md)`;
  }
  return cached;
}

/** True when the test PostgreSQL answers (tests that need it may skip otherwise). */
export async function pgAvailable(): Promise<boolean> {
  return pgUnavailableReason() === null;
}
