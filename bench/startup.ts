/**
 * `fusion serve` from spawn to its first answer, and what the process costs by then: the
 * embedded storages (memory://, pglite:// on a new and on an existing directory; the first
 * start on a machine, from the package's bundled dumps with an empty user cache, and without
 * the bundle either, which runs initdb and the migrations) against
 * PostgreSQL and a bare fastify listen, each in a fresh child process, in the same run.
 * Columns: wall time to the first 200 of `GET /api/info`, the child's CPU time (user + system,
 * its own children's included) by then, its resident memory then and its peak (VmHWM). CPU time and memory do not depend
 * much on other load on the machine; wall time does.
 * Runs the built CLI (`dist/cli/main.js`) with this checkout's `pglite-templates/`: `npm run
 * build && node scripts/pglite-templates.mjs` first (`npm install` does both).
 * Run: `npm run bench -- startup [--rounds 3]`.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchOptions } from './lib/args.js';
import { BENCH_PG_URL, dropSchema, freshSchemaName } from './lib/postgres.js';
import { markdownTable } from './lib/report.js';
import { median } from './lib/stats.js';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const cli = join(root, 'dist', 'cli', 'main.js');
/** Longest wait for a first answer before the run counts as failed. */
const FIRST_ANSWER_TIMEOUT_MS = 600_000;
/** Clock ticks per second of /proc/PID/stat (USER_HZ, 100 on Linux). */
const CLOCK_TICKS = 100;

/** What one start cost. */
interface StartSample {
  firstAnswerMs: number;
  cpuMs: number;
  rssMb: number;
  peakRssMb: number;
}

/** One thing to start: its command line, and a fresh place for it to keep data. */
interface StartTarget {
  name: string;
  command(port: number): { args: string[]; env?: Record<string, string> };
  /** Called before each round (e.g. a new empty directory). */
  prepare?(): Promise<void>;
}

const BARE_SCRIPT = `
import fastify from 'fastify';
const app = fastify({ logger: false });
app.get('/api/info', async () => ({ status: 200, data: { api: 'bare' } }));
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) });
`;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function procStats(pid: number): Promise<{ cpuMs: number; rssMb: number; peakRssMb: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and
  // 13th, then cutime and cstime (children it waited for, e.g. the PGlite initdb child).
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  return { cpuMs: (ticks * 1000) / CLOCK_TICKS, rssMb: kb('VmRSS') / 1024, peakRssMb: kb('VmHWM') / 1024 };
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

async function startOnce(target: StartTarget): Promise<StartSample> {
  await target.prepare?.();
  const port = await freePort();
  const { args, env = {} } = target.command(port);
  const started = performance.now();
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  try {
    const url = `http://127.0.0.1:${port}/api/info`;
    while (!(await answers(url))) {
      if (child.exitCode !== null) throw new Error(`${target.name} exited (${child.exitCode}) before answering: ${stderr.trim()}`);
      if (performance.now() - started > FIRST_ANSWER_TIMEOUT_MS) throw new Error(`${target.name} did not answer within ${FIRST_ANSWER_TIMEOUT_MS} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const firstAnswerMs = performance.now() - started;
    return { firstAnswerMs, ...(await procStats(child.pid!)) };
  } finally {
    child.kill('SIGTERM');
    await exited(child);
  }
}

/** The config document (JSON is YAML) of a service with the auth, info and case APIs. */
function serviceConfig(): Record<string, unknown> {
  return {
    server: { host: '127.0.0.1', port: 0, log_level: 'warn', log_requests: false },
    auth: {
      backend: { strategy: 'basic', basic: { users: [] } },
      clients: [{ name: 'bench-client', key: 'startup-bench-key-0123456789abcdef' }],
    },
    info: { api: 'startup' },
    case: null,
  };
}

export default async function main(args: string[]): Promise<void> {
  const { rounds = 3 } = benchOptions(args);
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build first`);
  if (!existsSync(join(root, 'pglite-templates', 'manifest.json'))) {
    console.error('pglite-templates/ is missing (node scripts/pglite-templates.mjs writes it): the "first start" rows will build the dumps');
  }
  const dir = await mkdtemp(join(tmpdir(), 'fusion-bench-startup-'));
  const config = join(dir, 'config.yaml');
  await writeFile(config, JSON.stringify(serviceConfig()));
  const schema = freshSchemaName('startup');
  const pgConfig = join(dir, 'config-pg.yaml');
  await writeFile(pgConfig, JSON.stringify({ ...serviceConfig(), storage: { schema } }));
  const pgliteDir = join(dir, 'pglite');
  // A template cache of its own, so the "cold" rows really start without one.
  const coldCache = join(dir, 'cold-cache');
  const warmCache = join(dir, 'warm-cache');
  const serve = (port: number, url: string, cache: string): { args: string[]; env: Record<string, string> } => ({
    args: [cli, 'serve', '--config', config, '--port', String(port), '--storage-url', url],
    env: { FUSION_PGLITE_CACHE: cache },
  });
  const targets: StartTarget[] = [
    { name: 'bare fastify listen', command: (port) => ({ args: ['--input-type=module', '-e', BARE_SCRIPT], env: { PORT: String(port) } }) },
    {
      name: 'fusion serve, PostgreSQL (new schema)',
      command: (port) => ({ ...serve(port, BENCH_PG_URL, warmCache), args: [cli, 'serve', '--config', pgConfig, '--port', String(port), '--storage-url', BENCH_PG_URL] }),
      prepare: () => dropSchema(schema),
    },
    {
      name: 'fusion serve, memory://, no bundled dumps, empty user cache',
      command: (port) => ({ ...serve(port, 'memory://', coldCache), env: { FUSION_PGLITE_CACHE: coldCache, FUSION_PGLITE_BUNDLED: 'off' } }),
      prepare: () => rm(coldCache, { recursive: true, force: true }),
    },
    {
      name: 'fusion serve, memory://, first start on a machine (bundled dumps, empty user cache)',
      command: (port) => serve(port, 'memory://', coldCache),
      prepare: () => rm(coldCache, { recursive: true, force: true }),
    },
    {
      name: 'fusion serve, pglite:// new directory, first start on a machine',
      command: (port) => serve(port, `pglite://${pgliteDir}`, coldCache),
      prepare: async () => {
        await rm(coldCache, { recursive: true, force: true });
        await rm(pgliteDir, { recursive: true, force: true });
      },
    },
    { name: 'fusion serve, memory://', command: (port) => serve(port, 'memory://', warmCache) },
    {
      name: 'fusion serve, pglite:// new directory',
      command: (port) => serve(port, `pglite://${pgliteDir}`, warmCache),
      prepare: () => rm(pgliteDir, { recursive: true, force: true }),
    },
    { name: 'fusion serve, pglite:// existing directory', command: (port) => serve(port, `pglite://${pgliteDir}`, warmCache) },
  ];
  const rows: (string | number)[][] = [];
  const load = loadavg();
  try {
    // Fills the template cache the other embedded rows start from (as any first start does).
    await startOnce({ name: 'warm-up', command: (port) => serve(port, 'memory://', warmCache) });
    for (const target of targets) {
      const samples: StartSample[] = [];
      for (let round = 0; round < rounds; round++) {
        samples.push(await startOnce(target));
      }
      const pick = (key: keyof StartSample): number => Math.round(median(samples.map((sample) => sample[key])));
      const row = [target.name, pick('firstAnswerMs'), pick('cpuMs'), pick('rssMb'), pick('peakRssMb')];
      console.error(`${row.join(' | ')}  (rounds: ${samples.map((s) => Math.round(s.firstAnswerMs)).join(', ')} ms)`);
      rows.push(row);
    }
  } finally {
    await dropSchema(schema).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
  const after = loadavg();
  console.log(`\nfusion serve to first answer, median of ${rounds} rounds (Node ${process.version})`);
  console.log(markdownTable(['start', 'first answer (ms)', 'child CPU (ms)', 'RSS at answer (MB)', 'peak RSS (MB)'], rows));
  console.log(`load average (1/5/15 min): before ${load.map((l) => l.toFixed(2)).join(' ')}, after ${after.map((l) => l.toFixed(2)).join(' ')}`);
}
