/**
 * Self-test of the HTTP comparison: two identical bare fastify routes, so the ratio should be
 * close to 1. Run: `npm run bench -- http-selftest [--duration 5 --connections 50]`.
 */
import fastify from 'fastify';
import { benchOptions } from './lib/args.js';
import { compareHttp } from './lib/http.js';
import type { HttpTarget } from './lib/http.js';
import { comparisonRow, markdownHeader, COMPARISON_COLUMNS } from './lib/report.js';

function bareFastify(name: string): HttpTarget {
  return {
    name,
    async start() {
      const app = fastify({ logger: false });
      app.get('/ping', async () => ({ status: 200, data: { pong: true } }));
      const url = await app.listen({ port: 0, host: '127.0.0.1' });
      return { url, close: () => app.close() };
    },
  };
}

/** Compares two bare fastify servers; prints the table and a markdown row. */
export default async function main(args: string[]): Promise<void> {
  const result = await compareHttp({
    baseline: bareFastify('bare fastify A'),
    candidate: bareFastify('bare fastify B'),
    requests: { method: 'GET', path: '/ping' },
    ...benchOptions(args),
  });
  console.log('');
  console.log(markdownHeader([...COMPARISON_COLUMNS]));
  console.log(
    comparisonRow('self-test GET /ping (same server twice)', {
      baseline: result.baseline.requestsPerSecond,
      candidate: result.candidate.requestsPerSecond,
      unit: 'req/s',
    }),
  );
  if (result.ratio < 0.9 || result.ratio > 1.1) {
    console.log(`warning: ratio ${result.ratio.toFixed(3)} is not within 10% of 1: ratios on this machine are not reliable now`);
  }
}
