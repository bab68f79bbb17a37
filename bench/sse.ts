/**
 * SSE delivery latency: 1,000 subscribers of one case, 100 events (after 10 warm-up ones), one
 * every 20 ms; latency = time the subscriber parsed the message - time just before the server
 * was asked to publish it (both clocks are this machine's: performance.timeOrigin + now()).
 *   - baseline: a bare fastify SSE route fanning each event out from memory (no storage);
 *   - one instance: FusionEventAPI on PostgreSQL, notify() and the subscribers on one server;
 *   - two instances: notify() on A, the subscribers on B (the event crosses LISTEN/NOTIFY).
 * Servers run in child processes (node --import tsx); this process holds the subscribers (plain
 * undici streams). Targets (DESIGN §7): p99 < 50 ms on one instance, < 150 ms across two.
 * Besides latency it reports each server's CPU time (process.cpuUsage, user + system) per
 * delivered event (events x subscribers), which a loaded machine disturbs less than wall time,
 * and, from the bus's diagnostics channel (BUS_BATCH_CHANNEL) on the subscribers' server, where
 * an event's time goes: notify on A to the wake-up of B's bus (insert, commit, NOTIFY, LISTEN),
 * the row fetch, the hand-over to the 1,000 streams, and from there to the last subscriber.
 * Run: `npm run bench -- sse [--connections 1000]`.
 */
import type { ServerResponse } from 'node:http';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { benchOptions } from './lib/args.js';
import { startBenchChild } from './lib/child.js';
import type { BenchChild } from './lib/child.js';
import { BENCH_PG_URL, dropSchema, freshSchemaName } from './lib/postgres.js';
import { markdownTable } from './lib/report.js';
import { formatLoad, sampleLoad } from './lib/stats.js';

const EVENTS = 100;
const WARMUP = 10;
const INTERVAL_MS = 20;
const ROLE_ENV = 'FUSION_BENCH_SSE_ROLE';
const SCHEMA_ENV = 'FUSION_BENCH_SSE_SCHEMA';
const KEY_ENV = 'FUSION_BENCH_SSE_KEY';

type Role = 'bare' | 'fusion';
type ToChild = { type: 'create-case' } | { type: 'emit'; caseGuid: string; count: number; intervalMs: number } | { type: 'stats' };
type FromChild =
  | { type: 'ready'; url: string }
  | { type: 'created'; caseGuid: string }
  | { type: 'emitted' }
  | { type: 'stats'; cpuMicros: number; batches: BatchTiming[] };
/** BusBatchTiming as it crosses IPC. */
interface BatchTiming {
  wokeAt: number;
  fetchedAt: number;
  fannedOutAt: number;
  rows: number;
  firstId: string;
  lastId: string;
}

const now = (): number => performance.timeOrigin + performance.now();

// ---------------------------------------------------------------- child: one server

async function serve(role: Role): Promise<void> {
  let url: string;
  let publish: (caseGuid: string, ext: Record<string, unknown>) => Promise<void>;
  let createCase: () => Promise<string>;
  const batches: BatchTiming[] = [];
  if (role === 'bare') {
    const { default: Fastify } = await import('fastify');
    const streams = new Set<ServerResponse>();
    const app = Fastify({ logger: false });
    app.get('/sse/:guid', (_request, reply) => {
      reply.hijack();
      reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      reply.raw.write('data: {"category":"subscribers"}\n\n');
      streams.add(reply.raw);
      reply.raw.on('close', () => streams.delete(reply.raw));
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    let id = 0;
    publish = async (_guid, ext) => {
      const frame = `id: ${++id}\ndata: ${JSON.stringify({ source: 'bench', category: 'tick', ext })}\n\n`;
      for (const stream of streams) stream.write(frame);
    };
    createCase = async () => 'bare';
  } else {
    const { setAuditSink } = await import('../src/helper/tracing.js');
    const { BUS_BATCH_CHANNEL } = await import('../src/server/event/event-bus.js');
    BUS_BATCH_CHANNEL.subscribe((message) => {
      const { wokeAt, fetchedAt, fannedOutAt, rows, firstId, lastId } = message as BatchTiming;
      batches.push({ wokeAt, fetchedAt, fannedOutAt, rows, firstId, lastId });
    });
    const { Case } = await import('../src/concept/index.js');
    const { startFusionServer, benchAuthSection } = await import('./lib/fusion.js');
    setAuditSink({ info: () => undefined, warn: () => undefined }); // 1,000 subscriptions: keep the log small
    const running = await startFusionServer({
      server: { log_requests: false, docs: false },
      storage: { url: BENCH_PG_URL, schema: process.env[SCHEMA_ENV] },
      auth: benchAuthSection(process.env[KEY_ENV] ?? ''),
      event: { max_streams_per_identity: 0 }, // 1,000 subscribers share one API client
    });
    url = running.url;
    const events = running.server.eventNotifier!;
    const cases = new Map<string, InstanceType<typeof Case>>();
    const lookup = async (guid: string): Promise<InstanceType<typeof Case>> => {
      const found = await running.server.storage.retrieveCase(Case, guid);
      if (found === null) throw new Error(`case ${guid} not found`);
      cases.set(guid, found);
      return found;
    };
    publish = async (guid, ext) => {
      const cached = cases.get(guid);
      const caseObj = cached ?? (await lookup(guid));
      if (cached === undefined) ext.sent_at = now(); // the first lookup is not part of notify()
      await events.notify('tick', caseObj, ext);
    };
    createCase = async () => (await running.server.storage.createCase(new Case({ name: 'bench', acs: ['bench'] }))).guid;
  }
  const send = (message: FromChild): void => void process.send?.(message);
  process.on('message', (message: ToChild) => {
    if (message.type === 'create-case') {
      void createCase().then((caseGuid) => send({ type: 'created', caseGuid }));
      return;
    }
    if (message.type === 'stats') {
      const cpu = process.cpuUsage();
      send({ type: 'stats', cpuMicros: cpu.user + cpu.system, batches: batches.splice(0) });
      return;
    }
    void (async () => {
      for (let seq = 0; seq < message.count; seq++) {
        const started = now();
        await publish(message.caseGuid, { seq, sent_at: started });
        const wait = message.intervalMs - (now() - started);
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      }
      send({ type: 'emitted' });
    })();
  });
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready', url });
}

// ---------------------------------------------------------------- parent: subscribers and numbers

type Child = BenchChild<ToChild, FromChild>;

function startChild(role: Role, env: Record<string, string>): Promise<Child> {
  return startBenchChild<ToChild, FromChild>({ script: fileURLToPath(import.meta.url), role, env: { ...env, [ROLE_ENV]: role } });
}

/** `count` SSE streams on `url + path`; each records the latency of every `tick` with seq >= WARMUP. */
async function subscribe(url: string, path: string, headers: Record<string, string>, count: number) {
  const pool = new Pool(url, { connections: count, bodyTimeout: 0, headersTimeout: 60_000 });
  const latencies: number[] = [];
  const received = new Array<number>(count).fill(0);
  /** Per event id: when it was sent (before notify) and when its last subscriber got it. */
  const byId = new Map<string, { sentAt: number; lastAt: number }>();
  const bodies: { destroy(): void }[] = [];
  let subscribed = 0;
  const open = async (index: number): Promise<void> => {
    const response = await pool.request({ method: 'GET', path, headers: { accept: 'text/event-stream', ...headers } });
    if (response.statusCode !== 200) throw new Error(`GET ${path}: HTTP ${response.statusCode} ${await response.body.text()}`);
    bodies.push(response.body);
    let buffer = '';
    let first = true;
    response.body.setEncoding('utf8');
    response.body.on('data', (chunk: string) => {
      const at = now();
      buffer += chunk;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const message = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (first) {
          first = false;
          subscribed++;
          continue;
        }
        const seq = /"seq":\s*(\d+)/.exec(message);
        const sent = /"sent_at":\s*([\d.]+)/.exec(message);
        if (!seq || !sent) continue;
        received[index]!++;
        if (Number(seq[1]) < WARMUP) continue;
        latencies.push(at - Number(sent[1]));
        const id = /^id: (\d+)/m.exec(message)?.[1];
        if (id === undefined) continue;
        const seen = byId.get(id);
        if (seen === undefined) byId.set(id, { sentAt: Number(sent[1]), lastAt: at });
        else if (at > seen.lastAt) seen.lastAt = at;
      }
    });
    response.body.on('error', () => undefined);
  };
  for (let i = 0; i < count; i += 100) await Promise.all(Array.from({ length: Math.min(100, count - i) }, (_, k) => open(i + k)));
  while (subscribed < count) await new Promise((resolve) => setTimeout(resolve, 20));
  return {
    latencies,
    received,
    byId,
    async close() {
      for (const body of bodies) body.destroy();
      await pool.destroy();
    },
  };
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

interface Scenario {
  name: string;
  target: string;
  p50: number;
  p99: number;
  max: number;
  delivered: number;
  /** Server CPU µs per delivered event: the notifying server, and the subscribers' server when it is another. */
  cpuNotifier: number;
  cpuServer: number | null;
}

/** `p50 / p99` of `values` in ms. */
function spread(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  return `${percentile(sorted, 50).toFixed(1)} / ${percentile(sorted, 99).toFixed(1)}`;
}

/** Prints where the events' time went on the subscribers' server (one row per batch of the bus). */
function printStages(batches: readonly BatchTiming[], byId: ReadonlyMap<string, { sentAt: number; lastAt: number }>): void {
  const stages = { wake: [] as number[], fetch: [] as number[], handOver: [] as number[], toLast: [] as number[] };
  for (const batch of batches) {
    // The bus woke for the batch's first row; its last row reached the last subscriber last.
    const first = byId.get(batch.firstId);
    const last = byId.get(batch.lastId);
    if (first === undefined || last === undefined) continue; // warm-up, or an event of another category
    stages.wake.push(batch.wokeAt - first.sentAt);
    stages.fetch.push(batch.fetchedAt - batch.wokeAt);
    stages.handOver.push(batch.fannedOutAt - batch.fetchedAt);
    stages.toLast.push(last.lastAt - batch.fannedOutAt);
  }
  const multi = batches.filter((batch) => batch.rows > 1).length;
  console.log(`    where the time goes (p50 / p99 ms over ${stages.wake.length} batches, ${multi} of them with several rows):`);
  console.log(`      notify() called -> bus woken (insert, commit, NOTIFY, LISTEN): ${spread(stages.wake)}`);
  console.log(`      row fetch: ${spread(stages.fetch)}; hand-over to the streams: ${spread(stages.handOver)}; then to the last subscriber: ${spread(stages.toLast)}`);
}

async function runScenario(
  name: string,
  target: string,
  notifier: Child,
  server: Child,
  caseGuid: string,
  path: string,
  headers: Record<string, string>,
  count: number,
): Promise<Scenario> {
  const subscribers = await subscribe(server.url, path, headers, count);
  const other = server === notifier ? null : server;
  try {
    const notifierBefore = await notifier.ask({ type: 'stats' }, 'stats');
    const serverBefore = await other?.ask({ type: 'stats' }, 'stats');
    await notifier.ask({ type: 'emit', caseGuid, count: WARMUP + EVENTS, intervalMs: INTERVAL_MS }, 'emitted');
    const deadline = Date.now() + 60_000;
    const expected = count * (WARMUP + EVENTS);
    const total = (): number => subscribers.received.reduce((a, b) => a + b, 0);
    while (total() < expected && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    const notifierAfter = await notifier.ask({ type: 'stats' }, 'stats');
    const serverAfter = await other?.ask({ type: 'stats' }, 'stats');
    const delivered = Math.max(1, total());
    const sorted = [...subscribers.latencies].sort((a, b) => a - b);
    const result: Scenario = {
      name,
      target,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      max: sorted.at(-1) ?? Number.NaN,
      delivered: total() / expected,
      cpuNotifier: (notifierAfter.cpuMicros - notifierBefore.cpuMicros) / delivered,
      cpuServer: serverAfter && serverBefore ? (serverAfter.cpuMicros - serverBefore.cpuMicros) / delivered : null,
    };
    const cpu = result.cpuServer === null ? `${result.cpuNotifier.toFixed(2)} µs` : `A ${result.cpuNotifier.toFixed(2)} + B ${result.cpuServer.toFixed(2)} µs`;
    console.log(`  ${name}: p50 ${result.p50.toFixed(1)} ms, p99 ${result.p99.toFixed(1)} ms, max ${result.max.toFixed(1)} ms, delivered ${(result.delivered * 100).toFixed(1)}%, server CPU per delivered event ${cpu}`);
    const batches = (serverAfter ?? notifierAfter).batches;
    if (batches.length > 0) printStages(batches, subscribers.byId);
    return result;
  } finally {
    await subscribers.close();
  }
}

/** Runs the three scenarios and prints the table. */
export default async function main(args: string[]): Promise<void> {
  const count = benchOptions(args).connections ?? 1000;
  const key = 'bench-sse-key-0123456789abcdefghijklmn';
  const schema = freshSchemaName('sse');
  const children: Child[] = [];
  const load = sampleLoad();
  const results: Scenario[] = [];
  console.log(`SSE benchmark: ${count} subscribers of one case, ${EVENTS} events (+${WARMUP} warm-up) every ${INTERVAL_MS} ms`);
  try {
    const bare = await startChild('bare', {});
    children.push(bare);
    results.push(await runScenario('bare fastify, in-memory fan-out (baseline)', '', bare, bare, 'bare', '/sse/bench', {}, count));
    bare.process.kill();

    const env = { [SCHEMA_ENV]: schema, [KEY_ENV]: key };
    const headers = { 'x-fusion-api-token': key };
    const a = await startChild('fusion', env);
    children.push(a);
    const { caseGuid } = await a.ask({ type: 'create-case' }, 'created');
    const path = `/api/events/case/${caseGuid}`;
    results.push(await runScenario('FusionEventAPI, one instance (PostgreSQL)', 'p99 < 50 ms', a, a, caseGuid, path, headers, count));
    const b = await startChild('fusion', env);
    children.push(b);
    results.push(await runScenario('FusionEventAPI, notify on A, subscribers on B', 'p99 < 150 ms', a, b, caseGuid, path, headers, count));
  } finally {
    for (const child of children) child.process.kill();
    await dropSchema(schema).catch(() => undefined);
  }
  const taken = load.stop();
  console.log('');
  console.log(
    markdownTable(
      ['scenario', 'p50 (ms)', 'p99 (ms)', 'max (ms)', 'delivered', 'server CPU µs / delivered event', 'target', 'met'],
      results.map((r) => {
        const limit = /< (\d+)/.exec(r.target);
        const met = limit ? (r.p99 < Number(limit[1]) && r.delivered === 1 ? 'yes' : 'no') : '';
        const cpu = r.cpuServer === null ? r.cpuNotifier.toFixed(2) : `${(r.cpuNotifier + r.cpuServer).toFixed(2)} (A ${r.cpuNotifier.toFixed(2)}, B ${r.cpuServer.toFixed(2)})`;
        return [r.name, r.p50.toFixed(1), r.p99.toFixed(1), r.max.toFixed(1), `${(r.delivered * 100).toFixed(1)}%`, cpu, r.target, met];
      }),
    ),
  );
  console.log(formatLoad(taken, cpus().length));
}

const role = process.env[ROLE_ENV];
if (role === 'bare' || role === 'fusion') {
  serve(role).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
