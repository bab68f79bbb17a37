/**
 * Analyzer throughput on PostgreSQL: trivial analyses (process does nothing) through
 * FusionAnalyzerPool with 1, 2 and 4 workers in one process, and 2 processes x 2 workers,
 * against pg-boss alone doing the same number of empty jobs with the same workers (fetch one,
 * complete it) in the same run. Time: from the workers' start to the last analysis (job) done;
 * queueing is done before and not timed. Each configuration runs on a fresh queue; the table
 * gives jobs/s and framework/pg-boss ratios, with the load average.
 * Run: `npm run bench -- analyzer [--jobs 500]`.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Knex } from 'knex';
import type PgBoss from 'pg-boss';
import { AnalyzerInfo, Case } from '../src/concept/index.js';
import type { FusionLogger } from '../src/helper/logging.js';
import type { AnalysisHost } from '../src/server/analyzer/analysis-rows.js';
import { FusionAnalyzerPool } from '../src/server/analyzer/pool.js';
import { analyzerQueue, queueAnalysis } from '../src/server/analyzer/queue.js';
import { openStorage } from '../src/server/storage/open-storage.js';
import type { KnexStorage } from '../src/server/storage/knex-storage.js';
import { acquireBoss, ensureQueue } from '../src/server/task/boss.js';
import { BENCH_PG_URL, dropSchema, freshSchemaName } from './lib/postgres.js';
import { formatLoad, sampleLoad } from './lib/stats.js';

const ROLE_ENV = 'FUSION_BENCH_ANALYZER_ROLE';
const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => silent } as unknown as FusionLogger;

function hostOf(storage: KnexStorage): AnalysisHost {
  return { storage, eventNotifier: null, loadCase: async () => null, logger: silent };
}

const analyzersConfig = (directory: string) => ({ directory, pollInterval: 0.05, lease: 30, analyzers: {} });

/** Runs `workers` loops of fetch-one/complete on `queue` until `count` jobs are done (shared counter). */
async function bossWorkers(boss: PgBoss, queue: string, workers: number, done: { count: number }, target: number): Promise<void> {
  const loop = async (): Promise<void> => {
    while (done.count < target) {
      const [job] = await boss.fetch(queue, { batchSize: 1, priority: true });
      if (!job) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      await boss.complete(queue, job.id);
      done.count++;
    }
  };
  await Promise.all(Array.from({ length: workers }, loop));
}

async function queueAnalyses(storage: KnexStorage, boss: PgBoss, analyzer: string, jobs: number): Promise<void> {
  await ensureQueue(boss, analyzerQueue(analyzer));
  await storage.knex.transaction(async (trx: Knex.Transaction) => {
    for (let i = 0; i < jobs; i++) await queueAnalysis(hostOf(storage), boss, new Case({ name: `bench ${i}` }), analyzer, { expireInSeconds: 60, trx });
  });
}

async function queueEmpty(boss: PgBoss, queue: string, jobs: number): Promise<void> {
  await ensureQueue(boss, queue);
  await boss.insert(Array.from({ length: jobs }, () => ({ name: queue, data: {}, priority: 20 })));
}

async function countDone(storage: KnexStorage, analyzer: string): Promise<number> {
  const [row] = await storage.knex('fusion_analysis').where({ analyzer, status: 'success' }).count<{ count: string }[]>('* as count');
  return Number(row!.count);
}

function checkDone(actual: number, wanted: number): void {
  if (actual < wanted) throw new Error(`only ${actual} of ${wanted} analyses succeeded`);
}

async function until(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 25));
}

// ------------------------------------------------------------ child: 2 workers of one kind
async function child(role: string, schema: string, name: string): Promise<void> {
  const storage = await openStorage(BENCH_PG_URL, { schema, logger: silent });
  const lease = await acquireBoss(storage);
  const stop = new AbortController();
  process.on('message', (message: { type: string }) => {
    if (message.type === 'stop') stop.abort();
  });
  if (role === 'pool') {
    const pool = new FusionAnalyzerPool({ host: hostOf(storage), analyzer: { info: new AnalyzerInfo({ name }), process: async () => undefined }, config: analyzersConfig(`/tmp/${schema}`), workers: 2 });
    await pool.start();
    process.send!({ type: 'ready' });
    await new Promise((resolve) => stop.signal.addEventListener('abort', resolve));
    await pool.stop();
  } else {
    process.send!({ type: 'ready' });
    const done = { count: 0 };
    const loop = async (): Promise<void> => {
      while (!stop.signal.aborted) {
        const [job] = await lease.boss.fetch(name, { batchSize: 1, priority: true });
        if (!job) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          continue;
        }
        await lease.boss.complete(name, job.id);
        done.count++;
      }
    };
    await Promise.all([loop(), loop()]);
  }
  await lease.release();
  await storage.close();
  process.exit(0);
}

async function twoProcesses(role: 'pool' | 'boss', schema: string, name: string, isDone: () => Promise<boolean>): Promise<number> {
  const script = fileURLToPath(import.meta.url);
  const children: ChildProcess[] = [0, 1].map(() => fork(script, [], { execArgv: ['--import', 'tsx'], env: { ...process.env, [ROLE_ENV]: `${role}:${schema}:${name}` } }));
  await Promise.all(children.map((c) => new Promise((resolve) => c.once('message', resolve))));
  const started = performance.now();
  await until(isDone);
  const ms = performance.now() - started;
  for (const c of children) c.send({ type: 'stop' });
  await Promise.all(children.map((c) => new Promise((resolve) => c.once('exit', resolve))));
  return ms;
}

// ------------------------------------------------------------ parent
async function main(args: string[]): Promise<void> {
  const jobsIndex = args.indexOf('--jobs');
  const jobs = jobsIndex >= 0 ? Number(args[jobsIndex + 1]) : 500;
  const schema = freshSchemaName('analyzer');
  const storage = await openStorage(BENCH_PG_URL, { schema, logger: silent });
  await storage.migrate();
  const lease = await acquireBoss(storage);
  const load = sampleLoad();
  const rows: string[] = [];
  try {
    for (const config of ['1 worker', '2 workers', '4 workers', '2 processes x 2 workers'] as const) {
      const name = `bench-${config.replace(/\W+/g, '-')}`;
      const bossQueue = `empty-${name}`;
      await queueEmpty(lease.boss, bossQueue, jobs);
      let bossMs: number;
      let poolMs: number;
      await queueAnalyses(storage, lease.boss, name, jobs);
      if (config.startsWith('2 processes')) {
        bossMs = await twoProcesses('boss', schema, bossQueue, async () => (await lease.boss.getQueueSize(bossQueue)) === 0 && (await activeJobs(storage, schema, bossQueue)) === 0);
        poolMs = await twoProcesses('pool', schema, name, async () => (await countDone(storage, name)) >= jobs);
      } else {
        const workers = Number(config[0]);
        const bossStarted = performance.now();
        await bossWorkers(lease.boss, bossQueue, workers, { count: 0 }, jobs);
        bossMs = performance.now() - bossStarted;
        const pool = new FusionAnalyzerPool({ host: hostOf(storage), analyzer: { info: new AnalyzerInfo({ name }), process: async () => undefined }, config: analyzersConfig(`/tmp/${schema}`), workers });
        // Counted in the process, as bossWorkers counts its jobs (no COUNT query competing with the workers).
        let finished = 0;
        let allDone!: () => void;
        const done = new Promise<void>((resolve) => (allDone = resolve));
        pool.on('finished', () => {
          if (++finished >= jobs) allDone();
        });
        const poolStarted = performance.now();
        await pool.start();
        await done;
        poolMs = performance.now() - poolStarted;
        checkDone(await countDone(storage, name), jobs);
        await pool.stop();
      }
      const bossRate = (jobs / bossMs) * 1000;
      const poolRate = (jobs / poolMs) * 1000;
      rows.push(`| ${config} | ${poolRate.toFixed(0)} | ${bossRate.toFixed(0)} | ${(poolRate / bossRate).toFixed(2)} |`);
      console.error(rows.at(-1));
    }
  } finally {
    const measured = load.stop();
    await lease.release();
    await storage.close();
    await dropSchema(schema);
    await dropSchema(`${schema}_boss`);
    console.log(`\n${jobs} trivial analyses per configuration, PostgreSQL, ${formatLoad(measured, availableParallelism())}\n`);
    console.log('| configuration | analyses/s (FusionAnalyzerPool) | empty jobs/s (pg-boss alone) | ratio |');
    console.log('|---|---|---|---|');
    for (const row of rows) console.log(row);
  }
}

async function activeJobs(storage: KnexStorage, schema: string, queue: string): Promise<number> {
  const result = await storage.knex.raw<{ rows: { count: string }[] }>(`SELECT count(*) AS count FROM "${schema}_boss".job WHERE name = ? AND state < 'completed'`, [queue]);
  return Number(result.rows[0]!.count);
}

const role = process.env[ROLE_ENV];
if (role) {
  const [kind, schema, name] = role.split(':') as [string, string, string];
  void child(kind, schema, name);
}

/** Entry point for `npm run bench -- analyzer`. */
export default async function run(args: string[]): Promise<void> {
  if (!role) await main(args);
}
