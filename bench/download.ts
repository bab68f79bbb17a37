/**
 * Download benchmark: a 1 GiB file streamed through FusionDownloadAPI (prepare + one-time GET)
 * against a bare fastify route piping fs.createReadStream of the same file. Each server runs
 * in a child process of its own (node --import tsx), which samples its resident memory every
 * 50 ms while it serves; this process downloads (undici, body counted and dropped) and times.
 * Run: `npm run bench -- download [--rounds 5]`. Rounds alternate bare/framework; the table
 * gives the median throughput and the worst RSS growth over the rounds.
 */
import { mkdtemp, open, rm } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { benchOptions } from './lib/args.js';
import { startBenchChild } from './lib/child.js';
import type { BenchChild } from './lib/child.js';
import { comparisonRow, markdownTable } from './lib/report.js';

const SIZE = 1024 ** 3;
const MB = 1e6;
const ROLE_ENV = 'FUSION_BENCH_DOWNLOAD_ROLE';
const FILE_ENV = 'FUSION_BENCH_DOWNLOAD_FILE';

type Role = 'bare' | 'framework';
type ToChild = { type: 'prepare' } | { type: 'measure-start' } | { type: 'measure-stop' };
type FromChild =
  | { type: 'ready'; url: string }
  | { type: 'prepared'; path: string }
  | { type: 'started' }
  | { type: 'stopped'; baseline: number; peak: number; samples: number };

// ---------------------------------------------------------------- child: one server, RSS sampler

async function serve(role: Role, file: string): Promise<void> {
  let baseUrl: string;
  let prepare: () => Promise<string>;
  if (role === 'bare') {
    const { default: Fastify } = await import('fastify');
    const app = Fastify({ logger: false });
    app.get('/file', (_request, reply) => {
      reply.header('content-type', 'application/octet-stream').header('content-length', String(SIZE));
      return reply.send(createReadStream(file));
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    prepare = async () => '/file';
  } else {
    const { FusionServer } = await import('../src/server/server.js');
    const { parseConfig } = await import('../src/server/config.js');
    const { FusionDownloadAPI } = await import('../src/server/download/impl.js');
    const config = parseConfig({ server: { log_level: 'silent', docs: false, log_requests: false }, storage: { url: 'memory://' } });
    const api = new FusionDownloadAPI({ timeout: 60 });
    const server = new FusionServer({ config, apis: [api] });
    baseUrl = await server.listen({ host: '127.0.0.1', port: 0 });
    prepare = async () => FusionDownloadAPI.pathOf(await api.prepare(file, 'big.bin'));
  }
  let timer: NodeJS.Timeout | undefined;
  let baseline = 0;
  let peak = 0;
  let samples = 0;
  const send = (message: FromChild): void => {
    process.send?.(message);
  };
  process.on('message', (message: ToChild) => {
    if (message.type === 'prepare') {
      void prepare().then((path) => send({ type: 'prepared', path }));
    } else if (message.type === 'measure-start') {
      globalThis.gc?.();
      baseline = process.memoryUsage().rss;
      peak = baseline;
      samples = 0;
      timer = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().rss);
        samples++;
      }, 50);
      send({ type: 'started' });
    } else {
      clearInterval(timer);
      peak = Math.max(peak, process.memoryUsage().rss);
      send({ type: 'stopped', baseline, peak, samples });
    }
  });
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready', url: baseUrl });
}

// ---------------------------------------------------------------- parent: drive and measure

type Child = BenchChild<ToChild, FromChild>;

function startChild(role: Role, file: string): Promise<Child> {
  return startBenchChild<ToChild, FromChild>({
    script: fileURLToPath(import.meta.url),
    role,
    env: { [ROLE_ENV]: role, [FILE_ENV]: file },
    execArgv: ['--expose-gc'],
  });
}

interface Round {
  seconds: number;
  bytes: number;
  rssGrowth: number;
  samples: number;
}

async function downloadOnce(child: Child): Promise<Round> {
  const { path } = await child.ask({ type: 'prepare' }, 'prepared');
  await child.ask({ type: 'measure-start' }, 'started');
  const started = process.hrtime.bigint();
  const response = await request(`${child.url}${path}`);
  if (response.statusCode !== 200) throw new Error(`GET ${path}: HTTP ${response.statusCode}`);
  let bytes = 0;
  for await (const chunk of response.body as AsyncIterable<Buffer>) bytes += chunk.length;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const stopped = await child.ask({ type: 'measure-stop' }, 'stopped');
  if (bytes !== SIZE) throw new Error(`GET ${path}: got ${bytes} bytes, expected ${SIZE}`);
  return { seconds, bytes, rssGrowth: stopped.peak - stopped.baseline, samples: stopped.samples };
}

/** Creates the 1 GiB file (sparse: its pages read as zeros), runs the rounds, prints the tables. */
export default async function main(args: string[]): Promise<void> {
  const rounds = benchOptions(args).rounds ?? 5;
  const dir = await mkdtemp(join(tmpdir(), 'fusion-bench-download-'));
  const file = join(dir, 'big.bin');
  const handle = await open(file, 'w');
  await handle.truncate(SIZE);
  await handle.close();
  const children: Child[] = [];
  try {
    const bare = await startChild('bare', file);
    children.push(bare);
    const framework = await startChild('framework', file);
    children.push(framework);
    console.log(`download benchmark: ${SIZE / 1024 ** 3} GiB file (sparse), ${rounds} rounds each, servers in child processes`);
    await downloadOnce(bare); // warm-up (page cache, JIT), not measured
    await downloadOnce(framework);
    const results: Record<Role, Round[]> = { bare: [], framework: [] };
    for (let i = 0; i < rounds; i++) {
      for (const [role, child] of [['bare', bare], ['framework', framework]] as const) {
        const round = await downloadOnce(child);
        results[role].push(round);
        console.log(`  ${role} round ${i + 1}: ${(round.bytes / MB / round.seconds).toFixed(0)} MB/s, RSS +${(round.rssGrowth / MB).toFixed(1)} MB (${round.samples} samples)`);
      }
    }
    // The median: on a small shared machine a round now and then is slowed by other processes.
    const median = (rows: Round[]): number => {
      const speeds = rows.map((r) => r.bytes / MB / r.seconds).sort((a, b) => a - b);
      const middle = Math.floor(speeds.length / 2);
      return speeds.length % 2 === 1 ? speeds[middle]! : (speeds[middle - 1]! + speeds[middle]!) / 2;
    };
    const worstGrowth = (rows: Round[]): number => Math.max(...rows.map((r) => r.rssGrowth)) / MB;
    const rows = (['bare', 'framework'] as const).map((role) => [
      role === 'bare' ? 'bare fastify + fs.createReadStream' : 'FusionDownloadAPI GET /api/download/:guid/:token',
      Number(median(results[role]).toFixed(0)),
      Number(worstGrowth(results[role]).toFixed(1)),
      worstGrowth(results[role]) < 64 ? 'yes' : 'no',
    ]);
    console.log('');
    console.log(markdownTable(['server', 'throughput (MB/s, median)', 'peak RSS growth (MB, worst round)', '< 64 MB'], rows));
    console.log('');
    console.log(comparisonRow('1 GiB file download throughput', { baseline: median(results.bare), candidate: median(results.framework), unit: 'MB/s' }));
  } finally {
    for (const child of children) child.process.kill();
    await rm(dir, { force: true, recursive: true });
  }
}

const role = process.env[ROLE_ENV];
if (role === 'bare' || role === 'framework') {
  serve(role, process.env[FILE_ENV] ?? '').catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
