/**
 * HTTP load comparison: a baseline and a candidate server take the same load from autocannon
 * (in a worker thread, so the servers keep the main thread), alternately, in the same run.
 */
import autocannon from 'autocannon';
import { request } from 'undici';
import { markdownTable } from './report.js';

/** A server to measure: `start()` brings it up and says where it listens. */
export interface HttpTarget {
  name: string;
  start(): Promise<{ url: string; close(): Promise<void> }>;
}

/** HTTP methods a benchmark request may use. */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH' | 'HEAD';

/** One request of the load (all connections repeat the list in order). */
export interface HttpRequestSpec {
  method?: HttpMethod;
  path: string;
  headers?: Record<string, string>;
  /** A string is sent as is; anything else as JSON (with content-type set). */
  body?: unknown;
}

/** Options of `compareHttp`. */
export interface CompareHttpOptions {
  baseline: HttpTarget;
  candidate: HttpTarget;
  requests: HttpRequestSpec | HttpRequestSpec[];
  /** Concurrent connections (default 50). */
  connections?: number;
  /** Seconds per measured round (default 5). */
  duration?: number;
  /** Seconds of warm-up per target, not measured (default 2). */
  warmup?: number;
  /** Measured rounds per target, alternating baseline/candidate (default 2). */
  rounds?: number;
  /** autocannon worker threads (default 1; 0 runs the load in the main thread). */
  workers?: number;
  /** Accept connection errors and non-2xx answers instead of failing (default false). */
  allowErrors?: boolean;
  /** Where progress and the result table go (default console.log). */
  log?: (line: string) => void;
}

/** One measured round. */
export interface HttpRound {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  mean: number;
  errors: number;
  non2xx: number;
}

/** The numbers of one target: means over its rounds (errors and non2xx: totals). */
export interface HttpStats extends HttpRound {
  name: string;
  /** (max - min) / mean of requests/s over the rounds: above ~0.15 the machine was noisy. */
  spread: number;
  rounds: HttpRound[];
}

/** Result of `compareHttp`; `ratio` is candidate/baseline requests per second. */
export interface HttpComparison {
  baseline: HttpStats;
  candidate: HttpStats;
  ratio: number;
}

interface Running {
  target: HttpTarget;
  url: string;
  close(): Promise<void>;
  rounds: HttpRound[];
}

/** Runs the comparison, prints a table and the ratio, and returns the numbers. */
export async function compareHttp(options: CompareHttpOptions): Promise<HttpComparison> {
  const log = options.log ?? ((line: string) => console.log(line));
  const settings = {
    connections: options.connections ?? 50,
    duration: options.duration ?? 5,
    warmup: options.warmup ?? 2,
    rounds: options.rounds ?? 2,
    workers: options.workers ?? 1,
  };
  const specs = (Array.isArray(options.requests) ? options.requests : [options.requests]).map(normalize);
  const running: Running[] = [];
  try {
    for (const target of [options.baseline, options.candidate]) {
      const { url, close } = await target.start();
      running.push({ target, url, close, rounds: [] });
      await probe(target.name, url, specs);
    }
    for (const r of running) {
      log(`warm-up ${r.target.name} (${settings.warmup}s)`);
      await load(r.url, specs, { ...settings, duration: settings.warmup });
    }
    for (let round = 1; round <= settings.rounds; round++) {
      for (const r of running) {
        const result = await load(r.url, specs, settings);
        if (!options.allowErrors && (result.errors > 0 || result.non2xx > 0)) {
          throw new Error(`${r.target.name}: ${result.errors} connection errors, ${result.non2xx} non-2xx answers`);
        }
        r.rounds.push(result);
        log(`round ${round} ${r.target.name}: ${Math.round(result.requestsPerSecond)} req/s, p50 ${result.p50} ms, p99 ${result.p99} ms`);
      }
    }
  } finally {
    await Promise.all(running.map((r) => r.close()));
  }
  const [baseline, candidate] = running.map(summarize) as [HttpStats, HttpStats];
  const comparison = { baseline, candidate, ratio: candidate.requestsPerSecond / baseline.requestsPerSecond };
  log('');
  log(
    markdownTable(
      ['target', 'req/s', 'p50 ms', 'p99 ms', 'mean ms', 'spread'],
      [baseline, candidate].map((s) => [
        s.name,
        Math.round(s.requestsPerSecond),
        s.p50,
        s.p99,
        s.mean.toFixed(2),
        `${(s.spread * 100).toFixed(0)}%`,
      ]),
    ),
  );
  log(`ratio candidate/baseline (req/s): ${comparison.ratio.toFixed(3)}`);
  const noisy = [baseline, candidate].filter((s) => s.spread > 0.15).map((s) => s.name);
  if (noisy.length > 0) log(`warning: req/s varied by more than 15% between rounds of ${noisy.join(', ')}: the machine is busy`);
  return comparison;
}

interface NormalRequest {
  method: HttpMethod;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

function normalize(spec: HttpRequestSpec): NormalRequest {
  const headers = { ...spec.headers };
  let body: string | undefined;
  if (typeof spec.body === 'string') body = spec.body;
  else if (spec.body !== undefined) {
    body = JSON.stringify(spec.body);
    headers['content-type'] ??= 'application/json';
  }
  return { method: spec.method ?? 'GET', path: spec.path, headers, ...(body === undefined ? {} : { body }) };
}

/** Sends each request once, so a wrong route fails now with a clear message. */
async function probe(name: string, url: string, specs: NormalRequest[]): Promise<void> {
  for (const spec of specs) {
    const response = await request(new URL(spec.path, url), {
      method: spec.method,
      headers: spec.headers,
      body: spec.body,
    });
    const text = await response.body.text();
    if (response.statusCode >= 300) {
      throw new Error(`${name}: ${spec.method} ${spec.path} answered ${response.statusCode}: ${text.slice(0, 200)}`);
    }
  }
}

async function load(
  url: string,
  specs: NormalRequest[],
  settings: { connections: number; duration: number; workers: number },
): Promise<HttpRound> {
  const [first] = specs;
  // A single request goes in the URL: autocannon's workers ignore a top-level `path`.
  const single = specs.length === 1 && first !== undefined;
  const result = await autocannon({
    url: single ? new URL(first.path, url).href : url,
    connections: settings.connections,
    duration: settings.duration,
    ...(settings.workers > 0 ? { workers: settings.workers } : {}),
    ...(single ? { method: first.method, headers: first.headers, body: first.body } : { requests: specs }),
  });
  return {
    requestsPerSecond: result.requests.total / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    mean: result.latency.average,
    errors: result.errors,
    non2xx: result.non2xx,
  };
}

function summarize(r: Running): HttpStats {
  const sum = (pick: (round: HttpRound) => number) => r.rounds.reduce((total, round) => total + pick(round), 0);
  const mean = (pick: (round: HttpRound) => number) => sum(pick) / r.rounds.length;
  const rps = r.rounds.map((x) => x.requestsPerSecond);
  return {
    name: r.target.name,
    spread: (Math.max(...rps) - Math.min(...rps)) / mean((x) => x.requestsPerSecond),
    requestsPerSecond: mean((x) => x.requestsPerSecond),
    p50: mean((x) => x.p50),
    p99: mean((x) => x.p99),
    mean: mean((x) => x.mean),
    errors: sum((x) => x.errors),
    non2xx: sum((x) => x.non2xx),
    rounds: r.rounds,
  };
}
