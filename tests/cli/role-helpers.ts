/** Child `fusion` processes on one PostgreSQL schema, for the task and analyzer role tests (PGlite is one process only). */
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe } from '@jest/globals';
import type { Knex } from 'knex';
import { Case } from '../../src/concept/index.js';
import type { AnalysisHost } from '../../src/server/analyzer/analysis-rows.js';
import { analyzerQueue, queueAnalysis } from '../../src/server/analyzer/queue.js';
import { openStorage } from '../../src/server/storage/open-storage.js';
import type { KnexStorage } from '../../src/server/storage/knex-storage.js';
import { acquireBoss, ensureQueue } from '../../src/server/task/boss.js';
import type { BossLease } from '../../src/server/task/boss.js';
import { TEST_PG_URL, isCi, pgUnavailableReason, quietLogger, randomSchemaName } from '../helpers/storage.js';
import type { FusionLogger } from '../../src/helper/logging.js';
import workers from '../fixtures/workers/module.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MODULE = fileURLToPath(new URL('../fixtures/workers/module.ts', import.meta.url));

/** A running `fusion` child process and its output so far. */
export interface Child {
  process: ChildProcessWithoutNullStreams;
  stdout: string;
  stderr: string;
  exited: Promise<number | null>;
}

const children: Child[] = [];

/** Starts `fusion ARGS` from the sources, `env` added to the environment (killed by the suite's afterAll). */
export function fusion(args: string[], env: Record<string, string> = {}): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, FUSION_DEBUG: '', FUSION_LOGFILE: '', ...env },
  });
  const entry: Child = { process: child, stdout: '', stderr: '', exited: new Promise((resolve) => child.on('close', resolve)) };
  child.stdout.on('data', (chunk: Buffer) => (entry.stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (entry.stderr += chunk.toString()));
  children.push(entry);
  return entry;
}

/** SIGKILLs every child still running and waits for them all. */
export async function killChildren(): Promise<void> {
  for (const child of children) if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
  await Promise.all(children.map((child) => child.exited));
}

/** Polls `check` every 100 ms until it returns true (bound: `ms`). */
export async function until(what: string, check: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Resolves once `child` printed `text`; rejects if it exits first. */
export function waitForOutput(child: Child, text: string, ms = 60_000): Promise<void> {
  return until(`'${text}' (stdout: ${child.stdout.slice(-500)} stderr: ${child.stderr.slice(-2000)})`, () => {
    if (child.process.exitCode !== null) throw new Error(`the process exited (${child.process.exitCode}): ${child.stderr.slice(-2000)}`);
    return child.stdout.includes(text);
  }, ms);
}


/** What a role suite gets: a config file naming the workers module, the storage and pg-boss of its schema. */
export interface RoleSuite {
  config: string;
  /** The suite's temporary directory (the synchronizer writes to its `sync` folder). */
  directory: string;
  storage: KnexStorage;
  /** Queues `count` analyses of `analyzer` (cases that exist only in the rows) in one transaction; returns the case guids. */
  queue(analyzer: string, count: number): Promise<string[]>;
}

/** Registers a PostgreSQL-only suite (skipped with a warning without PostgreSQL, failed under CI). */
export function describeRoles(title: string, body: (suite: () => RoleSuite) => void): void {
  const reason = pgUnavailableReason();
  const describeOrSkip = reason === null || isCi() ? describe : describe.skip;
  if (reason !== null && !isCi()) console.warn(`${title} skipped: ${reason}`);
  describeOrSkip(title, () => {
    let dir: string;
    let config: string;
    let schema: string;
    let storage: KnexStorage;
    let lease: BossLease;
    let host: AnalysisHost;

    beforeAll(async () => {
      if (reason !== null) throw new Error(reason);
      dir = await mkdtemp(join(tmpdir(), 'fusion-roles-'));
      schema = randomSchemaName();
      config = join(dir, 'config.yaml');
      await writeFile(
        config,
        [
          'server: { log_level: warn }',
          `storage: { url: "${TEST_PG_URL}", schema: ${schema} }`,
          `service: { module: "${MODULE}" }`,
          'event: {}',
          `synchronizer: { directory: "${join(dir, 'sync')}", interval: 60 }`,
          `analyzers: { directory: "${join(dir, 'analyses')}", lease: 2, poll_interval: 0.2, count: { workers: 2 }, hold: { retries: 1 } }`,
          '',
        ].join('\n'),
      );
      storage = await openStorage(TEST_PG_URL, { schema, migrations: workers.migrations ?? [], logger: quietLogger });
      await storage.migrate();
      lease = await acquireBoss(storage);
      host = { storage, eventNotifier: null, loadCase: async () => null, logger: quietLogger as unknown as FusionLogger };
    }, 120_000);

    afterAll(async () => {
      for (const child of children) if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
      await Promise.all(children.map((child) => child.exited));
      await lease?.release();
      await storage?.knex.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [schema]).catch(() => undefined);
      await storage?.knex.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [`${schema}_boss`]).catch(() => undefined);
      await storage?.close();
      await rm(dir, { recursive: true, force: true });
    }, 60_000);

    async function queue(analyzer: string, count: number): Promise<string[]> {
      await ensureQueue(lease.boss, analyzerQueue(analyzer));
      const guids: string[] = [];
      await storage.knex.transaction(async (trx: Knex.Transaction) => {
        for (let i = 0; i < count; i++) {
          const caseObj = new Case({ name: `case ${i}` });
          guids.push(caseObj.guid);
          await queueAnalysis(host, lease.boss, caseObj, analyzer, { expireInSeconds: 60, trx });
        }
      });
      return guids;
    }

    body(() => ({ config, directory: dir, storage, queue }));
  });
}
