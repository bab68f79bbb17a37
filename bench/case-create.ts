/**
 * 400 concurrent POST /api/case with ~50 KB bodies, API key, PostgreSQL: a FusionServer as a
 * real service runs it (auth, info and case APIs from the config, log at the environment's
 * level to a file) against a bare fastify + knex route doing the same insert (same columns,
 * the document as jsonb) and answering the same envelope (same schemas). Each server runs in a
 * child process of its own (node --import tsx); this process sends the 400 requests at once
 * over 400 connections (undici Pool) and times the burst from the first request to the last
 * response. Rounds alternate bare/framework on an emptied table; the table gives medians, and
 * each server's CPU time per request (user + system, read by the server itself around a burst).
 * Target (DESIGN §7): total time <= 1.2x the bare one.
 * Run: `npm run bench -- case-create [--rounds 11 --connections 400]` (FUSION_BENCH_CPU_PROF=DIR to
 * profile both servers).
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { Case } from '../src/concept/index.js';
import { openStorage } from '../src/server/storage/open-storage.js';
import { nextMessage as nextChildMessage } from './lib/child.js';
import { benchOptions } from './lib/args.js';
import { benchApiKey, benchAuthSection, startFusionServer } from './lib/fusion.js';
import { BENCH_PG_URL, dropSchema, freshSchemaName, runSql } from './lib/postgres.js';
import { comparisonRow, markdownHeader, markdownTable, COMPARISON_COLUMNS } from './lib/report.js';
import { formatLoad, median, sampleLoad } from './lib/stats.js';

const REQUESTS = 400;
const DESCRIPTION_BYTES = 50_000;
const POOL_MAX = 10;
const ROLE_ENV = 'FUSION_BENCH_CASE_CREATE_ROLE';
const SCHEMA_ENV = 'FUSION_BENCH_CASE_CREATE_SCHEMA';
const KEY_ENV = 'FUSION_BENCH_CASE_CREATE_KEY';

type Role = 'bare' | 'framework';
type ToChild = { type: 'close' } | { type: 'cpu' };
type FromChild = { type: 'ready'; url: string } | { type: 'closed'; logBytes: number } | { type: 'cpu'; micros: number };

// ---------------------------------------------------------------- child: one server

async function bareServer(schema: string): Promise<{ url: string; close(): Promise<number> }> {
  const { default: Fastify } = await import('fastify');
  const { default: knex } = await import('knex');
  const db = knex({ client: 'pg', connection: BENCH_PG_URL, pool: { min: 0, max: POOL_MAX }, searchPath: [schema] });
  const strip = ({ $schema: _s, $id: _i, ...rest }: Record<string, unknown>): Record<string, unknown> => rest;
  const schemas = {
    body: strip(Case.jsonSchema({ mode: 'input' })),
    response: {
      200: {
        type: 'object',
        properties: { status: { type: 'integer' }, data: strip(Case.jsonSchema({ mode: 'output' })), count: { type: 'integer' } },
      },
    },
  };
  // As large a body limit as the framework's default (1 MiB).
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
  app.post<{ Body: { name: string; description?: string; acs?: string[]; webhooks?: string[] } }>(
    '/api/case',
    { schema: schemas },
    async (request) => {
      const body = request.body;
      const created = new Date();
      const acs = [...new Set(body.acs ?? [])].sort();
      const document = {
        guid: randomUUID(),
        managed: true,
        created: created.toISOString().replace(/\.\d{3}Z$/, '+00:00'),
        updated: null,
        closed: null,
        tsid: null,
        name: body.name,
        description: body.description ?? '',
        acs,
        webhooks: body.webhooks ?? [],
      };
      await db('fusion_case').insert({
        guid: document.guid,
        managed: true,
        created,
        updated: null,
        closed: null,
        name: document.name,
        acs,
        document: JSON.stringify(document),
      });
      return { status: 200, data: document, count: Object.keys(document).length };
    },
  );
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    url,
    async close() {
      await app.close();
      await db.destroy();
      return 0;
    },
  };
}

async function frameworkServer(schema: string, apiKey: string): Promise<{ url: string; close(): Promise<number> }> {
  const running = await startFusionServer({
    server: { log_requests: false },
    storage: { url: BENCH_PG_URL, schema, pool_max: POOL_MAX },
    auth: benchAuthSection(apiKey),
    info: { api: 'bench-service' },
    case: {},
  });
  return { url: running.url, close: async () => (await running.close()).logBytes };
}

async function serve(role: Role): Promise<void> {
  const schema = process.env[SCHEMA_ENV] ?? '';
  const server = role === 'bare' ? await bareServer(schema) : await frameworkServer(schema, process.env[KEY_ENV] ?? '');
  process.on('message', (message: ToChild) => {
    if (message.type === 'cpu') {
      const usage = process.cpuUsage();
      process.send?.({ type: 'cpu', micros: usage.user + usage.system } satisfies FromChild);
      return;
    }
    void server.close().then((logBytes) => {
      process.send?.({ type: 'closed', logBytes } satisfies FromChild);
      process.disconnect();
    });
  });
  process.on('disconnect', () => process.exit(0));
  process.send?.({ type: 'ready', url: server.url } satisfies FromChild);
}

// ---------------------------------------------------------------- parent: burst and time

interface Child {
  role: Role;
  process: ChildProcess;
  url: string;
}

function nextMessage<T extends FromChild['type']>(child: ChildProcess, role: Role, type: T): Promise<Extract<FromChild, { type: T }>> {
  return nextChildMessage<FromChild, T>(child, role, type);
}

async function startChild(role: Role, schema: string, apiKey: string): Promise<Child> {
  const child = fork(fileURLToPath(import.meta.url), [], {
    // FUSION_BENCH_CPU_PROF=DIR: each server writes a V8 CPU profile there when it exits.
    execArgv: ['--import', 'tsx', ...(process.env.FUSION_BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.FUSION_BENCH_CPU_PROF}`] : [])],
    env: { ...process.env, [ROLE_ENV]: role, [SCHEMA_ENV]: schema, [KEY_ENV]: apiKey },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await nextMessage(child, role, 'ready');
  return { role, process: child, url: ready.url };
}

async function closeChild(child: Child): Promise<number> {
  const closed = nextMessage(child.process, child.role, 'closed');
  child.process.send({ type: 'close' } satisfies ToChild);
  return (await closed).logBytes;
}

/** CPU time (user + system, microseconds) the server process has used so far. */
async function cpuOf(child: Child): Promise<number> {
  const answer = nextMessage(child.process, child.role, 'cpu');
  child.process.send({ type: 'cpu' } satisfies ToChild);
  return (await answer).micros;
}

/** The request bodies: distinct names, one ~50 KB description, an acs. */
function bodies(): string[] {
  const phrase = 'Timeline of the intrusion, notes and indicators. ';
  const description = phrase.repeat(Math.ceil(DESCRIPTION_BYTES / phrase.length)).slice(0, DESCRIPTION_BYTES);
  return Array.from({ length: REQUESTS }, (_, i) => JSON.stringify({ name: `case ${i}`, description, acs: ['analysts', 'responders'] }));
}

/** Sends every body at once over `connections` fresh connections; returns the seconds until the last answer. */
async function burst(child: Child, payloads: string[], apiKey: string, connections: number): Promise<number> {
  const pool = new Pool(child.url, { connections, pipelining: 1 });
  const headers = { 'content-type': 'application/json', 'x-fusion-api-token': apiKey };
  try {
    const started = process.hrtime.bigint();
    const statuses = await Promise.all(
      payloads.map(async (body) => {
        const response = await pool.request({ method: 'POST', path: '/api/case', headers, body });
        const text = await response.body.text();
        if (response.statusCode !== 200) throw new Error(`${child.role}: POST /api/case answered ${response.statusCode}: ${text.slice(0, 200)}`);
        if (text.length < DESCRIPTION_BYTES) throw new Error(`${child.role}: the answer does not carry the case (${text.length} bytes)`);
        return response.statusCode;
      }),
    );
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (statuses.length !== payloads.length) throw new Error(`${child.role}: ${statuses.length} answers for ${payloads.length} requests`);
    return seconds;
  } finally {
    await pool.close();
  }
}

async function countRows(schema: string): Promise<number> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: BENCH_PG_URL });
  await client.connect();
  try {
    const result = await client.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".fusion_case`);
    return Number(result.rows[0]?.n ?? 0);
  } finally {
    await client.end();
  }
}

/** Migrates a fresh schema, starts both servers, runs the rounds, prints the tables; drops the schema. */
export default async function main(args: string[]): Promise<void> {
  const options = benchOptions(args);
  const rounds = options.rounds ?? 11;
  const connections = options.connections ?? REQUESTS;
  const schema = freshSchemaName('case_create');
  const apiKey = benchApiKey();
  const storage = await openStorage(BENCH_PG_URL, { schema });
  await storage.migrate();
  await storage.close();
  const children: Child[] = [];
  const payloads = bodies();
  try {
    children.push(await startChild('bare', schema, apiKey));
    children.push(await startChild('framework', schema, apiKey));
    const bodyBytes = Buffer.byteLength(payloads[0]!);
    console.log(`case-create: ${REQUESTS} POST /api/case of ${bodyBytes} bytes over ${connections} connections, ${rounds} rounds each, schema ${schema}`);
    const emptyTable = (): Promise<void> => runSql(`TRUNCATE "${schema}".fusion_case`);
    for (const child of children) {
      await emptyTable();
      await burst(child, payloads, apiKey, connections); // warm-up (JIT, pools), not measured
    }
    const load = sampleLoad();
    const results: Record<Role, number[]> = { bare: [], framework: [] };
    const cpu: Record<Role, number[]> = { bare: [], framework: [] };
    for (let round = 1; round <= rounds; round++) {
      for (const child of children) {
        await emptyTable();
        const cpuBefore = await cpuOf(child);
        const seconds = await burst(child, payloads, apiKey, connections);
        cpu[child.role].push((await cpuOf(child)) - cpuBefore);
        const rows = await countRows(schema);
        if (rows !== REQUESTS) throw new Error(`${child.role}: ${rows} rows stored for ${REQUESTS} requests`);
        results[child.role].push(seconds);
        console.log(`  round ${round} ${child.role}: ${(seconds * 1000).toFixed(0)} ms, server CPU ${(cpu[child.role].at(-1)! / REQUESTS).toFixed(0)} µs/request`);
      }
    }
    const loadSeen = load.stop();
    const bare = median(results.bare);
    const framework = median(results.framework);
    const pairs = results.bare.map((b, i) => results.framework[i]! / b);
    console.log('');
    console.log(
      markdownTable(
        ['server', 'median ms', 'min ms', 'max ms', 'server CPU µs/request (median)'],
        (['bare', 'framework'] as const).map((role) => [
          role === 'bare' ? 'bare fastify + knex insert' : 'FusionServer POST /api/case',
          Math.round(median(results[role]) * 1000),
          Math.round(Math.min(...results[role]) * 1000),
          Math.round(Math.max(...results[role]) * 1000),
          Math.round(median(cpu[role]) / REQUESTS),
        ]),
      ),
    );
    console.log(`per-round ratios: ${pairs.map((p) => p.toFixed(3)).join(' ')} (median ${median(pairs).toFixed(3)})`);
    console.log(formatLoad(loadSeen, availableParallelism()));
    console.log('');
    console.log(markdownHeader([...COMPARISON_COLUMNS]));
    console.log(
      comparisonRow(`${REQUESTS} concurrent POST /api/case, ${Math.round(bodyBytes / 1000)} KB (total time)`, {
        baseline: bare * 1000,
        candidate: framework * 1000,
        unit: 'ms',
        target: 1.2,
        higherIsBetter: false,
      }),
    );
  } finally {
    for (const child of children) {
      const logBytes = await closeChild(child).catch(() => -1);
      if (child.role === 'framework') console.log(`framework log file: ${logBytes} bytes`);
      child.process.kill();
    }
    await dropSchema(schema);
  }
}

const role = process.env[ROLE_ENV];
if (role === 'bare' || role === 'framework') {
  serve(role).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
