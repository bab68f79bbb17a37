/**
 * TCP gateway: echo messages/s through a FusionTcpGateway (line framing, a classifier, the
 * default handler answering with `connection.send`) against a bare `node:net` echo server that
 * frames lines by hand, in the same run; and memory per idle connection for both. Each server
 * runs in its own child process; the load generator pipelines `--window` 64-byte lines on each
 * of `--connections` sockets. Target (issue 15): >= 0.80x the bare messages/s.
 * Run: `npm run bench -- tcp [--duration 5 --rounds 3 --connections 50 --window 32 --idle 2000]`.
 */
import { once } from 'node:events';
import { connect, createServer } from 'node:net';
import type { Socket } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { FusionTcpGateway } from '../src/server/tcp/gateway.js';
import { createLogger } from '../src/helper/logging.js';
import { startBenchChild } from './lib/child.js';
import type { BenchChild } from './lib/child.js';
import { comparisonRow, markdownHeader, COMPARISON_COLUMNS } from './lib/report.js';
import { formatLoad, median, sampleLoad } from './lib/stats.js';

type Role = 'bare' | 'gateway';
type ToChild = { type: 'memory' };
type FromChild = { type: 'memory'; rss: number; heap: number; connections: number; cpuMicros: number };

const ROLE_ENV = 'FUSION_BENCH_TCP_ROLE';

/** The child: one echo server of `role`, answering memory questions over IPC. */
async function serve(role: Role): Promise<void> {
  let connections = 0;
  let port: number;
  if (role === 'bare') {
    const server = createServer((socket) => {
      connections++;
      socket.setNoDelay(true);
      let pending = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        pending += chunk;
        let at: number;
        while ((at = pending.indexOf('\n')) >= 0) {
          socket.write(`${pending.slice(0, at)}\n`);
          pending = pending.slice(at + 1);
        }
      });
      socket.on('close', () => connections--);
      socket.on('error', () => undefined);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as { port: number }).port;
  } else {
    const gateway = new FusionTcpGateway({ logger: createLogger({ level: 'warn' }) });
    gateway.classify((first) => (String(first).startsWith('HELLO') ? 'bench' : null));
    gateway.onMessage((frame, connection) => {
      connection.send(frame);
    });
    const listener = await gateway.listen({ port: 0, framing: { type: 'line' }, idleTimeout: 0, maxConnections: 100_000 });
    port = listener.port;
    setInterval(() => (connections = gateway.connections.size), 100).unref();
  }
  process.on('message', (message: ToChild) => {
    if (message.type !== 'memory') return;
    (globalThis as { gc?: () => void }).gc?.();
    const usage = process.memoryUsage();
    const cpu = process.cpuUsage();
    process.send!({ type: 'memory', rss: usage.rss, heap: usage.heapUsed + usage.external, connections, cpuMicros: cpu.user + cpu.system } satisfies FromChild);
  });
  process.send!({ type: 'ready', url: String(port) });
}

function numberArg(args: readonly string[], name: string, fallback: number): number {
  const index = args.indexOf(`--${name}`);
  if (index < 0) return fallback;
  const value = Number(args[index + 1]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} expects a number > 0`);
  return value;
}

async function openSockets(port: number, count: number): Promise<Socket[]> {
  const sockets: Socket[] = [];
  for (let i = 0; i < count; i += 200) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(200, count - i) }, async () => {
        const socket = connect({ host: '127.0.0.1', port });
        socket.setNoDelay(true);
        await once(socket, 'connect');
        return socket;
      }),
    );
    sockets.push(...batch);
  }
  return sockets;
}

/** Echoed lines per second over `seconds` (window lines in flight per socket), and the server's CPU µs per line. */
async function load(child: BenchChild<ToChild, FromChild>, connections: number, window: number, seconds: number): Promise<{ rate: number; cpuPerMessage: number }> {
  const sockets = await openSockets(Number(child.url), connections);
  const line = Buffer.from(`${'x'.repeat(63)}\n`);
  const burst = Buffer.concat(Array.from({ length: window }, () => line));
  let received = 0;
  let running = true;
  for (const socket of sockets) {
    socket.write('HELLO bench\n');
    let owed = 1; // the hello's echo
    socket.on('data', (chunk: Buffer) => {
      let lines = 0;
      for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++;
      received += lines;
      owed -= lines;
      // refill the window by whole bursts once half of it came back
      if (running && owed <= window / 2) {
        socket.write(burst);
        owed += window;
      }
    });
    socket.write(burst);
    owed += window;
  }
  await new Promise((resolve) => setTimeout(resolve, 500)); // warm-up
  const cpuBefore = (await child.ask({ type: 'memory' }, 'memory')).cpuMicros;
  const start = received;
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const count = received - start;
  const rate = (count * 1000) / (performance.now() - started);
  const cpuAfter = (await child.ask({ type: 'memory' }, 'memory')).cpuMicros;
  running = false;
  await Promise.all(sockets.map((socket) => new Promise((resolve) => socket.once('close', resolve).destroy())));
  return { rate, cpuPerMessage: (cpuAfter - cpuBefore) / count };
}

/** Resident and heap bytes per idle connection: memory with `count` idle sockets minus without. */
async function idleMemory(child: BenchChild<ToChild, FromChild>, port: number, count: number): Promise<{ rss: number; heap: number }> {
  const before = await child.ask({ type: 'memory' }, 'memory');
  const sockets = await openSockets(port, count);
  for (let tries = 0; tries < 200; tries++) {
    if ((await child.ask({ type: 'memory' }, 'memory')).connections >= count) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const after = await child.ask({ type: 'memory' }, 'memory');
  await Promise.all(sockets.map((socket) => new Promise((resolve) => socket.once('close', resolve).destroy())));
  return { rss: (after.rss - before.rss) / count, heap: (after.heap - before.heap) / count };
}

/** Runs the comparison and prints a markdown table with the load average. */
export default async function main(args: string[]): Promise<void> {
  const duration = numberArg(args, 'duration', 5);
  const rounds = numberArg(args, 'rounds', 3);
  const connections = numberArg(args, 'connections', 50);
  const window = numberArg(args, 'window', 32);
  const idle = numberArg(args, 'idle', 2000);
  const script = fileURLToPath(import.meta.url);
  const loadSampler = sampleLoad();
  const rates: Record<Role, number[]> = { bare: [], gateway: [] };
  const cpu: Record<Role, number[]> = { bare: [], gateway: [] };
  const ratios: number[] = [];
  const memory: Partial<Record<Role, { rss: number; heap: number }>> = {};
  for (let round = 0; round < rounds; round++) {
    for (const role of ['bare', 'gateway'] as const) {
      const child = await startBenchChild<ToChild, FromChild>({ script, role, env: { [ROLE_ENV]: role }, execArgv: ['--expose-gc'] });
      try {
        const result = await load(child, connections, window, duration);
        rates[role].push(result.rate);
        cpu[role].push(result.cpuPerMessage);
        if (round === 0) memory[role] = await idleMemory(child, Number(child.url), idle);
      } finally {
        child.process.kill();
        await once(child.process, 'exit');
      }
    }
    ratios.push(rates.gateway[round]! / rates.bare[round]!);
    const perCpu = (role: Role): string => `${Math.round(rates[role][round]!)} msg/s, ${cpu[role][round]!.toFixed(2)} CPU µs/msg`;
    console.log(`round ${round + 1}: bare ${perCpu('bare')}; gateway ${perCpu('gateway')}; ratio ${ratios[round]!.toFixed(3)} (load ${loadavg()[0]!.toFixed(2)})`);
  }
  const load1 = loadSampler.stop();
  console.log(`\n${markdownHeader(COMPARISON_COLUMNS)}`);
  console.log(
    comparisonRow(`TCP echo, ${connections} connections x ${window} in flight, 64-byte lines`, {
      baseline: median(rates.bare),
      candidate: median(rates.gateway),
      unit: 'msg/s',
      target: 0.8,
    }),
  );
  console.log(
    comparisonRow('same, server CPU per message (less sensitive to a loaded machine; higher is worse)', {
      baseline: median(cpu.bare) * 1000,
      candidate: median(cpu.gateway) * 1000,
      unit: 'CPU ns/msg',
      higherIsBetter: false,
    }),
  );
  console.log(`\npaired per-round ratios: ${ratios.map((r) => r.toFixed(3)).join(', ')} (median ${median(ratios).toFixed(3)})`);
  for (const role of ['bare', 'gateway'] as const) {
    const m = memory[role]!;
    console.log(`idle connection (${idle} sockets), ${role}: ${(m.rss / 1024).toFixed(1)} KiB resident, ${(m.heap / 1024).toFixed(1)} KiB heap+external`);
  }
  console.log(formatLoad(load1, cpus().length));
}

const role = process.env[ROLE_ENV] as Role | undefined;
if (role !== undefined && process.send !== undefined) void serve(role);
