/**
 * Cloud benchmark: upload (plain PUT and tus) and download of one file through FusionCloudAPI
 * (local driver, API key, memory:// storage, audit lines buffered into a file as `fusion serve`
 * writes them) against a bare fastify route that streams the
 * request body to a file (PUT) and `fs.createReadStream` of it (GET); a second bare PUT also hashes
 * (sha256), fsyncs and renames, as the framework must, to show its own overhead. Each server runs in a
 * child process of its own, sampling its resident memory every 50 ms while it serves; this
 * process sends and receives (undici) and times. The size is a flag (1 GiB is the DESIGN target,
 * heavy on a shared machine). Run: `npm run bench -- cloud [--mib 1024] [--rounds 3]`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, open, rename, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { benchOptions } from './lib/args.js';
import { startBenchChild } from './lib/child.js';
import type { BenchChild } from './lib/child.js';
import { comparisonRow, markdownTable } from './lib/report.js';

const MB = 1e6;
const ROLE_ENV = 'FUSION_BENCH_CLOUD_ROLE';
const DIR_ENV = 'FUSION_BENCH_CLOUD_DIR';
const KEY_ENV = 'FUSION_BENCH_CLOUD_KEY';

type Role = 'bare' | 'framework';
type ToChild = { type: 'measure-start' } | { type: 'measure-stop' };
type FromChild = { type: 'ready'; url: string } | { type: 'started' } | { type: 'stopped'; baseline: number; peak: number; cpuSeconds: number };

// ---------------------------------------------------------------- child: one server, RSS sampler

async function serve(role: Role, dir: string, apiKey: string): Promise<void> {
  let baseUrl: string;
  await mkdir(dir, { recursive: true });
  if (role === 'bare') {
    const { default: Fastify } = await import('fastify');
    const app = Fastify({ logger: false });
    app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    app.put('/file/:name', async (request) => {
      await pipeline(request.raw, createWriteStream(join(dir, (request.params as { name: string }).name)));
      return { status: 200 };
    });
    // A second baseline doing the work the safety rules ask of an upload (hash, fsync, rename), to show the framework's own overhead.
    app.put('/safe/:name', async (request) => {
      const target = join(dir, `safe-${(request.params as { name: string }).name}`);
      const hash = createHash('sha256');
      const hashing = new Transform({ transform: (chunk: Buffer, _encoding, done) => done(null, hash.update(chunk) && chunk) });
      await pipeline(request.raw, hashing, createWriteStream(`${target}.part`, { flags: 'wx' }));
      const handle = await open(`${target}.part`, 'r+');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(`${target}.part`, target);
      return { status: 200, sha256: hash.digest('hex') };
    });
    app.get('/file/:name', (request, reply) => reply.header('content-type', 'application/octet-stream').send(createReadStream(join(dir, (request.params as { name: string }).name))));
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  } else {
    const { FusionServer } = await import('../src/server/server.js');
    const { createAuditLog } = await import('../src/helper/audit-log.js');
    const { setAuditSink } = await import('../src/helper/tracing.js');
    // As `fusion serve` installs it, but into a file next to the data: the summary stays readable.
    setAuditSink(createAuditLog({ level: 'info', file: join(dir, '..', 'framework-audit.log') }).logger);
    const server = await FusionServer.fromConfig({
      server: { log_level: 'silent', docs: false, log_requests: false },
      storage: { url: 'memory://' },
      auth: { backend: { strategy: 'basic', basic: { users: [] } }, clients: [{ name: 'bench', key: apiKey }] },
      cloud: { root: dir },
    });
    baseUrl = await server.listen({ host: '127.0.0.1', port: 0 });
  }
  let timer: NodeJS.Timeout | undefined;
  let baseline = 0;
  let peak = 0;
  let cpu = process.cpuUsage();
  process.on('message', (message: ToChild) => {
    if (message.type === 'measure-start') {
      globalThis.gc?.();
      baseline = process.memoryUsage().rss;
      peak = baseline;
      cpu = process.cpuUsage();
      timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
      process.send?.({ type: 'started' } satisfies FromChild);
    } else {
      clearInterval(timer);
      peak = Math.max(peak, process.memoryUsage().rss);
      const used = process.cpuUsage(cpu);
      process.send?.({ type: 'stopped', baseline, peak, cpuSeconds: (used.user + used.system) / 1e6 } satisfies FromChild);
    }
  });
  process.on('disconnect', () => process.exit(0));
  process.on('SIGTERM', () => process.exit(0)); // exits through process.exit, so --cpu-prof writes its profile
  process.send?.({ type: 'ready', url: baseUrl } satisfies FromChild);
}

// ---------------------------------------------------------------- parent: drive and measure

type Child = BenchChild<ToChild, FromChild>;
type Operation = 'upload' | 'upload, sha256 + fsync' | 'tus upload' | 'download';
const OPERATIONS = ['upload', 'upload, sha256 + fsync', 'tus upload', 'download'] as const;

interface Round {
  mbps: number;
  rssGrowth: number;
  /** CPU seconds (user + system, all threads) the server spent per GB moved: its own cost, whatever else the machine runs. */
  cpuPerGB: number;
}

async function measured(child: Child, size: number, run: () => Promise<number>): Promise<Round> {
  await child.ask({ type: 'measure-start' }, 'started');
  const started = process.hrtime.bigint();
  const bytes = await run();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const stopped = await child.ask({ type: 'measure-stop' }, 'stopped');
  if (bytes !== size) throw new Error(`moved ${bytes} bytes, expected ${size}`);
  return { mbps: bytes / MB / seconds, rssGrowth: (stopped.peak - stopped.baseline) / MB, cpuPerGB: stopped.cpuSeconds / (bytes / 1e9) };
}

async function put(url: string, file: string, size: number, headers: Record<string, string>): Promise<number> {
  const response = await request(url, { method: 'PUT', headers: { ...headers, 'content-type': 'application/octet-stream', 'content-length': String(size) }, body: createReadStream(file) });
  const text = await response.body.text();
  if (response.statusCode >= 300) throw new Error(`PUT ${url}: ${response.statusCode} ${text}`);
  return size;
}

async function get(url: string, headers: Record<string, string>): Promise<number> {
  const response = await request(url, { headers });
  if (response.statusCode !== 200) throw new Error(`GET ${url}: HTTP ${response.statusCode}`);
  let bytes = 0;
  for await (const chunk of response.body as AsyncIterable<Buffer>) bytes += chunk.length;
  return bytes;
}

/** Writes the file (random bytes), runs the rounds, prints the tables. */
export default async function main(args: string[]): Promise<void> {
  const sizeIndex = args.indexOf('--mib');
  const mib = sizeIndex === -1 ? 1024 : Number(args[sizeIndex + 1]);
  const rest = sizeIndex === -1 ? args : [...args.slice(0, sizeIndex), ...args.slice(sizeIndex + 2)];
  const rounds = benchOptions(rest).rounds ?? 3;
  const size = mib * 1024 * 1024;
  const work = await mkdtemp(join(tmpdir(), 'fusion-bench-cloud-'));
  const source = join(work, 'source.bin');
  const handle = await open(source, 'w');
  for (let written = 0; written < size; written += 8 * 1024 * 1024) await handle.write(randomBytes(Math.min(8 * 1024 * 1024, size - written)));
  await handle.close();
  const apiKey = randomBytes(24).toString('base64url');
  const children: Child[] = [];
  try {
    const start = (role: Role) =>
      startBenchChild<ToChild, FromChild>({
        script: fileURLToPath(import.meta.url),
        role,
        env: { [ROLE_ENV]: role, [DIR_ENV]: join(work, role), [KEY_ENV]: apiKey },
        // FUSION_BENCH_CLOUD_CPU_PROF=<dir>: V8 CPU profiles of both servers (written at its exit).
        execArgv: ['--expose-gc', ...(process.env.FUSION_BENCH_CLOUD_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.FUSION_BENCH_CLOUD_CPU_PROF] : [])],
      });
    const bare = await start('bare');
    children.push(bare);
    const framework = await start('framework');
    children.push(framework);
    const key = { 'x-fusion-api-token': apiKey };
    const { FusionClient } = await import('../src/client/client.js');
    const { FusionCloudAPIClient } = await import('../src/client/api/cloud.js');
    const client = new FusionClient({ baseUrl: framework.url, apiKey, bodyTimeout: 600_000, headersTimeout: 600_000 });
    const cloud = new FusionCloudAPIClient({ client });
    console.log(`cloud benchmark: ${mib} MiB file, ${rounds} rounds, servers in child processes, load average before ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    const results: Record<Role, Record<Operation, Round[]>> = {
      bare: { upload: [], 'upload, sha256 + fsync': [], 'tus upload': [], download: [] },
      framework: { upload: [], 'upload, sha256 + fsync': [], 'tus upload': [], download: [] },
    };
    for (let i = 0; i < rounds; i++) {
      const name = `f${i}.bin`;
      results.bare.upload.push(await measured(bare, size, () => put(`${bare.url}/file/${name}`, source, size, {})));
      results.bare['upload, sha256 + fsync'].push(await measured(bare, size, () => put(`${bare.url}/safe/${name}`, source, size, {})));
      results.framework.upload.push(await measured(framework, size, () => put(`${framework.url}/api/cloud/file/${name}`, source, size, key)));
      results.framework['tus upload'].push(await measured(framework, size, async () => (await cloud.upload(source, `/tus-${name}`, { resumable: true })).size));
      results.bare.download.push(await measured(bare, size, () => get(`${bare.url}/file/${name}`, {})));
      results.framework.download.push(await measured(framework, size, () => get(`${framework.url}/api/cloud/file/${name}`, key)));
      for (const role of ['bare', 'framework'] as const) {
        for (const op of OPERATIONS) {
          const round = results[role][op][i];
          if (round) console.log(`  round ${i + 1} ${role} ${op}: ${round.mbps.toFixed(0)} MB/s, RSS +${round.rssGrowth.toFixed(1)} MB, server CPU ${round.cpuPerGB.toFixed(2)} s/GB`);
        }
      }
    }
    await client.close();
    const median = (rows: Round[], field: 'mbps' | 'cpuPerGB' = 'mbps'): number => {
      const values = rows.map((r) => r[field]).sort((a, b) => a - b);
      const middle = Math.floor(values.length / 2);
      return values.length % 2 === 1 ? values[middle]! : (values[middle - 1]! + values[middle]!) / 2;
    };
    const worst = (rows: Round[]): number => Math.max(...rows.map((r) => r.rssGrowth));
    const table = OPERATIONS.flatMap((op) =>
      (['bare', 'framework'] as const)
        .filter((role) => results[role][op].length > 0)
        .map((role) => [
          `${role} ${op}`,
          Number(median(results[role][op]).toFixed(0)),
          Number(median(results[role][op], 'cpuPerGB').toFixed(2)),
          Number(worst(results[role][op]).toFixed(1)),
          worst(results[role][op]) < 64 ? 'yes' : 'no',
        ]),
    );
    console.log('');
    console.log(markdownTable(['server / operation', 'throughput (MB/s, median)', 'server CPU (s/GB, median)', 'peak RSS growth (MB, worst round)', '< 64 MB'], table));
    console.log('');
    console.log(comparisonRow(`${mib} MiB upload (PUT)`, { baseline: median(results.bare.upload), candidate: median(results.framework.upload), unit: 'MB/s', target: 0.8 }));
    console.log(comparisonRow(`${mib} MiB upload (tus, vs bare PUT)`, { baseline: median(results.bare.upload), candidate: median(results.framework['tus upload']), unit: 'MB/s', target: 0.8 }));
    console.log(comparisonRow(`${mib} MiB upload (PUT, vs bare + sha256 + fsync)`, { baseline: median(results.bare['upload, sha256 + fsync']), candidate: median(results.framework.upload), unit: 'MB/s', target: 0.8 }));
    console.log(comparisonRow(`${mib} MiB upload (tus, vs bare + sha256 + fsync)`, { baseline: median(results.bare['upload, sha256 + fsync']), candidate: median(results.framework['tus upload']), unit: 'MB/s', target: 0.8 }));
    console.log(comparisonRow(`${mib} MiB download`, { baseline: median(results.bare.download), candidate: median(results.framework.download), unit: 'MB/s', target: 0.8 }));
    console.log(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  } finally {
    for (const child of children) child.process.kill();
    await rm(work, { force: true, recursive: true });
  }
}

const role = process.env[ROLE_ENV];
if (role === 'bare' || role === 'framework') {
  serve(role, process.env[DIR_ENV] ?? '', process.env[KEY_ENV] ?? '').catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
