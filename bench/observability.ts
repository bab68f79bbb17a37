/**
 * What observability adds to GET /api/info: the FusionServer of `bench/info.ts` with request
 * spans off and metrics off (baseline) against the same server with one thing turned on
 * (candidate), in the same run. Variants (`--variant`, default spans):
 * - `spans`: request spans forced on (`request_spans: true`), no SDK registered: the no-op
 *   API's cost (the default, `auto`, does not install them without an SDK);
 * - `sdk`: request spans (default `auto`) and an OpenTelemetry SDK registered (NodeTracerProvider, batch
 *   processor, an exporter that drops the spans): the cost of recording them; the SDK is
 *   global, so the baseline runs with its context manager too (it makes no spans of its own);
 * - `metrics`: `metrics.enabled` (the request histogram), request spans off.
 * Then, because req/s swings widely on a loaded machine, the CPU time per request of both
 * servers through `fastify.inject()` (no socket; every hook and handler runs), alternating
 * rounds: CPU time counts only while the process runs, so it holds up better under load.
 * Run: `npm run bench -- observability --variant sdk [--duration 5 --rounds 4 --connections 50]`.
 */
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { benchOptions } from './lib/args.js';
import { benchApiKey, benchAuthSection, startFusionServer } from './lib/fusion.js';
import type { BenchFusionServer } from './lib/fusion.js';
import { compareHttp } from './lib/http.js';
import type { HttpTarget } from './lib/http.js';
import { printHttpSummary } from './lib/http-summary.js';
import { median, sampleLoad } from './lib/stats.js';

const VARIANTS = ['spans', 'sdk', 'metrics'] as const;
type Variant = (typeof VARIANTS)[number];

/** An exporter that counts and drops spans (the SDK's work without an exporter's I/O). */
class DroppingExporter implements SpanExporter {
  count = 0;
  export(spans: ReadableSpan[], done: (result: { code: number }) => void): void {
    this.count += spans.length;
    done({ code: 0 }); // ExportResultCode.SUCCESS (@opentelemetry/core, not a direct dependency)
  }
  async shutdown(): Promise<void> {}
}

function startServer(sections: Record<string, unknown>): Promise<BenchFusionServer> {
  return startFusionServer({
    server: { log_requests: false },
    storage: { url: 'memory://' },
    auth: benchAuthSection(benchApiKey()),
    info: { api: 'bench-service', version: '1.2.3' },
    ...sections,
  });
}

function server(name: string, sections: Record<string, unknown>): HttpTarget {
  return {
    name,
    async start() {
      const running = await startServer(sections);
      return { url: running.url, close: async () => void (await running.close()) };
    },
  };
}

/** Microseconds of CPU (user + system) per `GET /api/info` through inject, over `count` sequential requests. */
async function cpuPerRequest(running: BenchFusionServer, count: number): Promise<number> {
  const start = process.cpuUsage();
  for (let i = 0; i < count; i++) {
    const answer = await running.server.fastify.inject({ method: 'GET', url: '/api/info' });
    if (answer.statusCode !== 200) throw new Error(`GET /api/info answered ${answer.statusCode}`);
  }
  const used = process.cpuUsage(start);
  return (used.user + used.system) / count;
}

/** Alternating rounds of cpuPerRequest on both servers; prints medians and the paired ratio. */
async function compareCpu(baselineSections: Record<string, unknown>, candidateSections: Record<string, unknown>, rounds = 7, count = 3000): Promise<void> {
  const baseline = await startServer(baselineSections);
  const candidate = await startServer(candidateSections);
  try {
    await cpuPerRequest(baseline, count);
    await cpuPerRequest(candidate, count);
    const b: number[] = [];
    const c: number[] = [];
    for (let round = 0; round < rounds; round++) {
      b.push(await cpuPerRequest(baseline, count));
      c.push(await cpuPerRequest(candidate, count));
    }
    const extra = c.map((value, i) => value - b[i]!);
    console.log(`CPU per request (inject, ${rounds} rounds of ${count}): baseline ${median(b).toFixed(1)} µs, candidate ${median(c).toFixed(1)} µs, ` +
      `median paired difference ${median(extra).toFixed(1)} µs (${((median(extra) / median(b)) * 100).toFixed(1)}%); rounds: ${extra.map((x) => x.toFixed(1)).join(' ')}`);
  } finally {
    await candidate.close();
    await baseline.close();
  }
}

function parseVariant(args: string[]): { variant: Variant; rest: string[] } {
  const index = args.findIndex((arg) => arg === '--variant' || arg.startsWith('--variant='));
  if (index < 0) return { variant: 'spans', rest: args };
  const value = args[index]!.includes('=') ? args[index]!.split('=')[1] : args[index + 1];
  const variant = VARIANTS.find((v) => v === value);
  if (variant === undefined) throw new Error(`--variant expects one of ${VARIANTS.join(', ')}, got ${value}`);
  const rest = [...args];
  rest.splice(index, args[index]!.includes('=') ? 1 : 2);
  return { variant, rest };
}

/** Runs the comparison for one variant; prints the table and the docs/performance.md row. */
export default async function main(args: string[]): Promise<void> {
  const { variant, rest } = parseVariant(args);
  const off = { telemetry: { request_spans: false } };
  // spans: forced on (request_spans: true), since the default (auto) installs nothing without an SDK.
  const sections = { spans: { telemetry: { request_spans: true } }, sdk: {}, metrics: { ...off, metrics: { enabled: true } } }[variant];
  const candidate = server({ spans: 'request spans, no SDK', sdk: 'request spans, SDK registered', metrics: 'metrics enabled' }[variant], sections);
  const exporter = new DroppingExporter();
  const provider = variant === 'sdk' ? new NodeTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] }) : null;
  provider?.register();
  const load = sampleLoad();
  try {
    const result = await compareHttp({
      baseline: server('spans off, metrics off', off),
      candidate,
      requests: { method: 'GET', path: '/api/info' },
      rounds: 4,
      ...benchOptions(rest),
    });
    printHttpSummary(`GET /api/info, observability: ${variant}`, result, load.stop(), 0.9);
    const cpuLoad = sampleLoad();
    await compareCpu(off, sections);
    const { median: loadMedian } = cpuLoad.stop();
    console.log(`load average during the CPU rounds (1 min, median): ${loadMedian.toFixed(2)}`);
  } finally {
    await provider?.shutdown();
    if (provider) console.log(`spans recorded and dropped: ${exporter.count}`);
  }
}
