/**
 * GET /api/cases without limit (the whole list, as edf_fusion clients ask for it) over 10,000
 * cases on PostgreSQL: how long the server's event loop is held at once
 * (perf_hooks.monitorEventLoopDelay, 1 ms resolution, max and p99 while the requests run), and
 * the time per request. Baseline: a bare fastify + knex route reading every document in one
 * query and answering the same envelope with JSON.stringify in one piece. The client runs in
 * the same process and only counts bytes (it does not parse).
 * Run: `npm run bench -- case-list [--rounds 5]`.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { cpus } from 'node:os';
import fastify from 'fastify';
import knex from 'knex';
import { request } from 'undici';
import { Case } from '../src/concept/index.js';
import { openStorage } from '../src/server/storage/open-storage.js';
import { benchOptions } from './lib/args.js';
import { benchApiKey, benchAuthSection, startFusionServer } from './lib/fusion.js';
import { BENCH_PG_URL, dropSchema, freshSchemaName } from './lib/postgres.js';
import { formatLoad, median, sampleLoad } from './lib/stats.js';

const CASES = 10_000;

function sampleCase(i: number): Case {
  return new Case({
    name: `incident ${i}`,
    description: `Suspicious activity seen on host-${i}. `.repeat(14),
    acs: ['analysts', `team-${i % 5}`],
    webhooks: [`https://hooks.example.org/case/${i}`],
  });
}

async function seed(schema: string): Promise<void> {
  const storage = await openStorage(BENCH_PG_URL, { schema });
  try {
    await storage.migrate();
    for (let i = 0; i < CASES; i += 200) {
      await storage.transaction(async (tx) => {
        for (let j = i; j < Math.min(CASES, i + 200); j++) await tx.createCase(sampleCase(j));
      });
    }
  } finally {
    await storage.close();
  }
}

interface Running {
  url: string;
  close(): Promise<unknown>;
}

async function bare(schema: string): Promise<Running> {
  const db = knex({ client: 'pg', connection: BENCH_PG_URL, pool: { min: 0, max: 10 }, searchPath: [schema] });
  const app = fastify({ logger: false });
  app.get('/api/cases', async (_request, reply) => {
    const rows = (await db('fusion_case').select('document').orderBy([{ column: 'created' }, { column: 'guid' }])) as { document: unknown }[];
    const data = rows.map((row) => row.document);
    return reply.type('application/json; charset=utf-8').send(JSON.stringify({ status: 200, data, count: data.length }));
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    url,
    close: async () => {
      await app.close();
      await db.destroy();
    },
  };
}

async function framework(schema: string, apiKey: string): Promise<Running> {
  const running = await startFusionServer({
    server: { log_requests: false },
    storage: { url: BENCH_PG_URL, schema },
    auth: benchAuthSection(apiKey),
    case: {},
  });
  return { url: running.url, close: () => running.close() };
}

interface Measure {
  maxBlockMs: number;
  p99BlockMs: number;
  requestMs: number;
  bytes: number;
}

/** `rounds` sequential GETs, the loop delay histogram over all of them. */
async function measure(target: Running, headers: Record<string, string>, rounds: number): Promise<Measure> {
  await request(`${target.url}/api/cases`, { headers }).then((r) => r.body.dump({ limit: Infinity })); // warm-up
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  const times: number[] = [];
  let bytes = 0;
  histogram.enable();
  for (let i = 0; i < rounds; i++) {
    const start = performance.now();
    const response = await request(`${target.url}/api/cases`, { headers });
    if (response.statusCode !== 200) throw new Error(`GET /api/cases: HTTP ${response.statusCode}`);
    bytes = 0;
    for await (const chunk of response.body) bytes += (chunk as Buffer).length;
    times.push(performance.now() - start);
  }
  histogram.disable();
  return { maxBlockMs: histogram.max / 1e6, p99BlockMs: histogram.percentile(99) / 1e6, requestMs: median(times), bytes };
}

/** The loop delay of this process doing nothing for `ms` (what the machine's load alone costs). */
async function idle(ms: number): Promise<Measure> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  await new Promise((resolve) => setTimeout(resolve, ms));
  histogram.disable();
  return { maxBlockMs: histogram.max / 1e6, p99BlockMs: histogram.percentile(99) / 1e6, requestMs: 0, bytes: 0 };
}

/** Seeds, measures the baseline then the framework, prints both and the ratios; drops the schema. */
export default async function main(args: string[]): Promise<void> {
  const rounds = benchOptions(args).rounds ?? 5;
  const schema = freshSchemaName('case_list');
  const apiKey = benchApiKey();
  try {
    await seed(schema);
    const load = sampleLoad();
    const results: [string, Measure][] = [];
    const quiet = await idle(3000);
    for (const [name, start, headers] of [
      ['bare fastify + knex, one JSON.stringify', () => bare(schema), {}],
      ['FusionServer GET /api/cases', () => framework(schema, apiKey), { 'x-fusion-api-token': apiKey }],
    ] as const) {
      const target = await start();
      try {
        results.push([name, await measure(target, headers, rounds)]);
      } finally {
        await target.close();
      }
    }
    console.log(`case-list: ${CASES} cases, ${rounds} sequential requests each, PostgreSQL ${BENCH_PG_URL}`);
    for (const [name, m] of results) {
      console.log(`  ${name}: body ${(m.bytes / 1e6).toFixed(2)} MB, event loop blocked max ${m.maxBlockMs.toFixed(1)} ms (p99 ${m.p99BlockMs.toFixed(1)} ms), median request ${m.requestMs.toFixed(0)} ms`);
    }
    console.log(`  idle process, 3 s (the machine's load alone): event loop delay max ${quiet.maxBlockMs.toFixed(1)} ms (p99 ${quiet.p99BlockMs.toFixed(1)} ms)`);
    const [[, b], [, f]] = results as [[string, Measure], [string, Measure]];
    console.log(`  ratio framework/bare: max block ${(f.maxBlockMs / b.maxBlockMs).toFixed(2)}, request time ${(f.requestMs / b.requestMs).toFixed(2)}`);
    console.log(`  load average during the run: ${formatLoad(load.stop(), cpus().length)}`);
  } finally {
    await dropSchema(schema);
  }
}
