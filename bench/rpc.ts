/**
 * RPC benchmark: `npm run bench -- rpc [--seconds S] [--members N] [--idle N]`.
 * Against a bare `ws` echo server in the same run: calls/s over 1 and 50 connections, the
 * round trip of a server-to-client request (reverse request vs. bare ws) p50/p99, broadcast to
 * `members` members on one instance and across two (p99 until the last member has it), and the
 * server memory per idle connection (the RPC server and a bare ws server each in a child
 * process, so the clients' memory is not counted). Every stage has a deadline: a stage that
 * does not finish fails the run with its name instead of hanging; `--stages calls,reverse,
 * broadcast,memory` runs some of them only. Storage: PostgreSQL
 * (FUSION_BENCH_PG_URL), fresh schemas, dropped at the end.
 */
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import WebSocket, { WebSocketServer } from 'ws';
import { FusionRpcClient } from '../src/client/api/rpc.js';
import { FusionRpcAPI } from '../src/server/rpc/impl.js';
import { startBenchChild } from './lib/child.js';
import type { BenchChild } from './lib/child.js';
import { benchApiKey, benchAuthSection, startFusionServer } from './lib/fusion.js';
import type { BenchFusionServer } from './lib/fusion.js';
import { BENCH_PG_URL } from './lib/postgres.js';
import { COMPARISON_COLUMNS, comparisonRow, markdownHeader, markdownRow } from './lib/report.js';
import { formatLoad, sampleLoad } from './lib/stats.js';

type Role = 'bare' | 'rpc';
type ToChild = { type: 'memory' };
type FromChild = { type: 'memory'; rss: number; heap: number; connections: number };

const ROLE_ENV = 'FUSION_BENCH_RPC_ROLE';
const KEY_ENV = 'FUSION_BENCH_RPC_KEY';
const SCHEMA_ENV = 'FUSION_BENCH_RPC_SCHEMA';

function arg(args: readonly string[], name: string, fallback: number): number {
  const index = args.indexOf(`--${name}`);
  if (index < 0) return fallback;
  const value = Number(args[index + 1]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} expects a number > 0`);
  return value;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const now = (): number => Number(process.hrtime.bigint()) / 1e6;

/** Runs `stage`, or rejects naming it when it takes longer than `seconds`. */
async function bounded<T>(name: string, seconds: number, stage: () => Promise<T>, quiet = false): Promise<T> {
  if (!quiet) console.error(`stage: ${name}`);
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      stage(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`stage "${name}" did not finish within ${seconds} s`)), seconds * 1000);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Calls/s of `call` over `connections` sockets, 50 in flight in all, for `seconds`. */
async function throughput(connections: number, seconds: number, call: (index: number) => Promise<unknown>): Promise<number> {
  let done = 0;
  const deadline = now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: connections }, async (_, index) => {
      await Promise.all(
        Array.from({ length: Math.max(1, Math.floor(50 / connections)) }, async () => {
          while (now() < deadline) {
            await call(index);
            done++;
          }
        }),
      );
    }),
  );
  return done / seconds;
}

/** A bare ws server answering `{id, result: params}`; a client's answer to a server request is emitted as 'answer' on its socket. */
function bareServer(port = 0): Promise<{ wss: WebSocketServer; url: string; close(): Promise<void> }> {
  return new Promise((resolve) => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port }, () => {
      const address = wss.address() as { port: number };
      resolve({
        wss,
        url: `ws://127.0.0.1:${address.port}`,
        close: async () => {
          for (const client of wss.clients) client.terminate();
          await new Promise((done) => wss.close(done));
        },
      });
    });
    wss.on('connection', (socket) => {
      socket.on('message', (data) => {
        const frame = JSON.parse(data.toString()) as { id: number; params?: unknown; result?: unknown };
        if ('result' in frame) socket.emit('answer', frame);
        else socket.send(JSON.stringify({ jsonrpc: '2.0', id: frame.id, result: frame.params ?? null }));
      });
    });
  });
}

interface BareClient {
  call(params: unknown): Promise<unknown>;
  close(): Promise<void>;
}

/**
 * A bare ws client that calls with ids and answers server requests by echo. Its message
 * listener is attached before the socket opens: the server may send in the same TCP segment
 * as the upgrade answer (the first version of this bench attached it after `open` and lost
 * that frame, which is why the reverse-request stage hung).
 */
async function bareClient(url: string, headers: Record<string, string> = {}): Promise<BareClient> {
  const socket = new WebSocket(url, { headers });
  const pending = new Map<number, (value: unknown) => void>();
  let next = 1;
  socket.on('message', (data) => {
    const frame = JSON.parse(data.toString()) as { id: number | string; result?: unknown; method?: string; params?: unknown };
    if (frame.method !== undefined) socket.send(JSON.stringify({ jsonrpc: '2.0', id: frame.id, result: frame.params }));
    else pending.get(frame.id as number)?.(frame.result);
  });
  await once(socket, 'open');
  return {
    call: (params) =>
      new Promise((resolve) => {
        const id = next++;
        pending.set(id, (value) => {
          pending.delete(id);
          resolve(value);
        });
        socket.send(JSON.stringify({ jsonrpc: '2.0', id, method: 'echo', params }));
      }),
    close: async () => {
      if (socket.readyState === WebSocket.CLOSED) return;
      const closed = once(socket, 'close');
      socket.close();
      await closed;
    },
  };
}

function serverDocument(apiKey: string, schema: string): Record<string, unknown> {
  return {
    server: { host: '127.0.0.1', port: 0, log_level: 'warn' },
    storage: { url: BENCH_PG_URL, schema },
    auth: benchAuthSection(apiKey),
    rpc: { rate: 1_000_000, max_in_flight: 1000, max_frame_bytes: 1 << 20 },
  };
}

function declare(rpc: FusionRpcAPI): FusionRpcAPI {
  rpc.method('echo', {}, ({ params }) => params);
  rpc.channel('bench/*');
  return rpc;
}

/** The child: an RPC server or a bare ws server, answering memory questions over IPC. */
async function serve(role: Role): Promise<void> {
  let count: () => number;
  let url: string;
  if (role === 'bare') {
    const bare = await bareServer();
    count = () => bare.wss.clients.size;
    url = bare.url;
  } else {
    const rpc = declare(new FusionRpcAPI());
    const server = await startFusionServer(serverDocument(process.env[KEY_ENV]!, process.env[SCHEMA_ENV]!), [rpc]);
    count = () => rpc.connectionCount;
    url = server.url;
  }
  process.on('message', (message: ToChild) => {
    if (message.type !== 'memory') return;
    (globalThis as { gc?: () => void }).gc?.();
    const usage = process.memoryUsage();
    process.send!({ type: 'memory', rss: usage.rss, heap: usage.heapUsed + usage.external, connections: count() } satisfies FromChild);
  });
  process.send!({ type: 'ready', url });
}

/** Resident and heap bytes per idle connection of the server in `child`: with `count` idle clients minus without. */
async function idleMemory(child: BenchChild<ToChild, FromChild>, count: number, open: (url: string) => Promise<{ close(): Promise<void> }>): Promise<{ rss: number; heap: number }> {
  const before = await child.ask({ type: 'memory' }, 'memory');
  const clients: { close(): Promise<void> }[] = [];
  try {
    for (let i = 0; i < count; i += 100) clients.push(...(await Promise.all(Array.from({ length: Math.min(100, count - i) }, () => open(child.url)))));
    for (let tries = 0; tries < 600; tries++) {
      if ((await child.ask({ type: 'memory' }, 'memory')).connections >= count) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const after = await child.ask({ type: 'memory' }, 'memory');
    return { rss: (after.rss - before.rss) / count, heap: (after.heap - before.heap) / count };
  } finally {
    for (let i = 0; i < clients.length; i += 500) await Promise.all(clients.slice(i, i + 500).map((client) => client.close()));
  }
}

async function dropSchemas(schemas: readonly string[]): Promise<void> {
  const admin = new pg.Client({ connectionString: BENCH_PG_URL });
  await admin.connect();
  try {
    for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await admin.end();
  }
}

/** Runs every stage (see the file comment) and prints a markdown table with the load average. */
export default async function main(args: string[]): Promise<void> {
  const seconds = arg(args, 'seconds', 3);
  const members = arg(args, 'members', 1000);
  const idle = arg(args, 'idle', 10_000);
  const stagesIndex = args.indexOf('--stages');
  const stages = new Set(stagesIndex >= 0 ? (args[stagesIndex + 1] ?? '').split(',') : ['calls', 'reverse', 'broadcast', 'memory']);
  const schema = `fusion_bench_${randomBytes(5).toString('hex')}`;
  const childSchema = `${schema}_idle`;
  const apiKey = benchApiKey();
  const load = sampleLoad();
  const rpcA = declare(new FusionRpcAPI());
  const rpcB = declare(new FusionRpcAPI());
  const a: BenchFusionServer = await startFusionServer(serverDocument(apiKey, schema), [rpcA]);
  const b: BenchFusionServer = await startFusionServer(serverDocument(apiKey, schema), [rpcB]);
  const bare = await bareServer();
  const rows: string[] = [];
  const notes: string[] = [];
  const connect = (url: string): Promise<FusionRpcClient> => FusionRpcClient.connect({ url, apiKey, reconnect: false, timeoutMs: 60_000 });
  const closeAll = async (clients: readonly { close(): Promise<void> }[]): Promise<void> => {
    for (let i = 0; i < clients.length; i += 500) await Promise.all(clients.slice(i, i + 500).map((client) => client.close()));
  };
  let failure: unknown = null;
  try {
    for (const connections of stages.has('calls') ? [1, 50] : []) {
      await bounded(`calls over ${connections} connection(s)`, 4 * seconds + 120, async () => {
        const bareClients = await Promise.all(Array.from({ length: connections }, () => bareClient(bare.url)));
        const rpcClients = await Promise.all(Array.from({ length: connections }, () => connect(a.url)));
        // The same bare client against the RPC server: the server's share of the difference.
        const rawRpcClients = await Promise.all(Array.from({ length: connections }, () => bareClient(`${a.url.replace(/^http/, 'ws')}/api/rpc`, { 'x-fusion-api-token': apiKey })));
        try {
          const baseline = await throughput(connections, seconds, (i) => bareClients[i]!.call({ n: 1 }));
          const candidate = await throughput(connections, seconds, (i) => rpcClients[i]!.call('echo', { n: 1 }));
          const serverOnly = await throughput(connections, seconds, (i) => rawRpcClients[i]!.call({ n: 1 }));
          rows.push(comparisonRow(`calls/s, ${connections} connection(s), 50 in flight in all, FusionRpcClient → FusionRpcAPI`, { baseline, candidate, unit: 'calls/s', target: 0.8 }));
          rows.push(comparisonRow(`calls/s, ${connections} connection(s), 50 in flight in all, bare ws client → FusionRpcAPI`, { baseline, candidate: serverOnly, unit: 'calls/s', target: 0.8 }));
        } finally {
          await closeAll(bareClients);
          await closeAll(rpcClients);
          await closeAll(rawRpcClients);
        }
      });
    }

    // Server-to-client round trip: reverse request vs. a bare ws request/answer (µs).
    if (stages.has('reverse')) await bounded('reverse requests', 180, async () => {
      const handler = await connect(a.url);
      handler.handle('ping', (params) => params);
      const accepted = new Promise<WebSocket>((resolve) => bare.wss.once('connection', (socket) => resolve(socket)));
      const answerer = await bareClient(bare.url);
      const bareSocket = await accepted;
      const bareTimes: number[] = [];
      const reverseTimes: number[] = [];
      try {
        for (let i = 0; i < 1000; i++) {
          let t0 = now();
          await new Promise((resolve) => {
            bareSocket.once('answer', resolve);
            bareSocket.send(JSON.stringify({ jsonrpc: '2.0', id: `s${i}`, method: 'ping', params: { i } }));
          });
          bareTimes.push(now() - t0);
          t0 = now();
          await rpcA.reverseRequest('bench-client', 'ping', { i }, { timeout: 10 });
          reverseTimes.push(now() - t0);
        }
      } finally {
        await handler.close();
        await answerer.close();
      }
      for (const p of [50, 99]) {
        const absolute = percentile(reverseTimes, p);
        const target = p === 50 ? 1 : 5;
        const baseline = percentile(bareTimes, p);
        rows.push(markdownRow([`reverse request round trip p${p} (bare: ws request/answer)`, `${(baseline * 1000).toFixed(0)} µs`, `${(absolute * 1000).toFixed(0)} µs`, (absolute / baseline).toFixed(3), `< ${target} ms`, absolute < target ? 'yes' : 'no']));
      }
    });

    // Broadcast to `members` members: one instance, then half on each of two.
    for (const spread of stages.has('broadcast') ? [1, 2] : []) {
      await bounded(`broadcast to ${members} members on ${spread} instance(s)`, 600, async () => {
        const channel = `bench/${spread}`;
        const clients: FusionRpcClient[] = [];
        for (let i = 0; i < members; i += 100) {
          clients.push(...(await Promise.all(Array.from({ length: Math.min(100, members - i) }, (_, j) => connect(spread === 2 && (i + j) % 2 === 1 ? b.url : a.url)))));
        }
        try {
          let received = 0;
          let wake: () => void = () => undefined;
          for (let i = 0; i < clients.length; i += 100) {
            await Promise.all(
              clients.slice(i, i + 100).map((client) =>
                client.join(channel, () => {
                  if (++received === members) wake();
                }),
              ),
            );
          }
          const times: number[] = [];
          for (let round = 0; round < 20; round++) {
            received = 0;
            const all = new Promise<void>((resolve) => {
              wake = resolve;
            });
            const t0 = now();
            await rpcA.broadcast(channel, { round });
            await bounded(`broadcast round ${round}`, 30, () => all, true);
            times.push(now() - t0);
          }
          const target = spread === 1 ? 50 : 150;
          const p99 = percentile(times, 99);
          rows.push(`| broadcast to ${members} members, ${spread} instance(s), 20 rounds, p50 / p99 | | ${percentile(times, 50).toFixed(1)} / ${p99.toFixed(1)} ms | | p99 < ${target} ms | ${p99 < target ? 'yes' : 'no'} |`);
        } finally {
          await closeAll(clients);
        }
      });
    }

    // Server memory per idle connection: each server in its own child process.
    const script = fileURLToPath(import.meta.url);
    const memory: Partial<Record<Role, { rss: number; heap: number }>> = {};
    for (const role of stages.has('memory') ? (['bare', 'rpc'] as const) : []) {
      await bounded(`memory of ${idle} idle connections, ${role} server`, 900, async () => {
        const child = await startBenchChild<ToChild, FromChild>({ script, role, env: { [ROLE_ENV]: role, [KEY_ENV]: apiKey, [SCHEMA_ENV]: childSchema }, execArgv: ['--expose-gc'] });
        try {
          memory[role] = await idleMemory(child, idle, role === 'bare' ? bareClient : connect);
        } finally {
          child.process.kill();
          await once(child.process, 'exit');
        }
      });
    }
    const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`;
    const bareMemory = memory.bare;
    const rpcMemory = memory.rpc;
    if (bareMemory && rpcMemory) {
      rows.push(`| server memory per idle connection at ${idle}, resident | ${kib(bareMemory.rss)} | ${kib(rpcMemory.rss)} | | < 20 KB | ${rpcMemory.rss < 20_000 ? 'yes' : 'no'} |`);
      rows.push(`| server memory per idle connection at ${idle}, heap + external | ${kib(bareMemory.heap)} | ${kib(rpcMemory.heap)} | | < 20 KB | ${rpcMemory.heap < 20_000 ? 'yes' : 'no'} |`);
    }
  } catch (error) {
    failure = error;
    console.error(error);
    notes.push(`FAILED: ${error instanceof Error ? error.message : String(error)}`);
    // The servers' own account (their logs are removed when they close).
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (const server of [a, b]) {
      const errors = (await readFile(server.logFile, 'utf8').catch(() => '')).split('\n').filter((line) => /"level":(50|60)/.test(line));
      for (const line of errors.slice(0, 5)) notes.push(`server error: ${line.slice(0, 600)}`);
    }
  } finally {
    await bare.close();
    await a.close();
    await b.close();
    await dropSchemas([schema, childSchema]);
  }
  console.log(markdownHeader(COMPARISON_COLUMNS));
  for (const row of rows) console.log(row);
  for (const note of notes) console.log(`\n${note}`);
  console.log(`\n${formatLoad(load.stop(), cpus().length)}`);
  if (failure !== null) throw failure;
}

const role = process.env[ROLE_ENV] as Role | undefined;
if (role !== undefined && process.send !== undefined) void serve(role);
