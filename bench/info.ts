/**
 * GET /api/info: a FusionServer as a real service runs it (auth and info APIs from the config,
 * public info route, OpenAPI on, log at the environment's level to a file, access lines off)
 * against a bare fastify route answering the same envelope with the same response schema. Target (DESIGN §7): >= 90% of the bare req/s.
 * Run: `npm run bench -- info [--duration 5 --rounds 4 --connections 50]`.
 */
import fastify from 'fastify';
import { Info } from '../src/concept/index.js';
import { benchOptions } from './lib/args.js';
import { benchApiKey, benchAuthSection, startFusionServer } from './lib/fusion.js';
import { compareHttp } from './lib/http.js';
import type { HttpTarget } from './lib/http.js';
import { printHttpSummary } from './lib/http-summary.js';
import { sampleLoad } from './lib/stats.js';

const API = 'bench-service';
const VERSION = '1.2.3';

const bare: HttpTarget = {
  name: 'bare fastify',
  async start() {
    const app = fastify({ logger: false });
    const body = new Info({ api: API, version: VERSION }).toJSON();
    // As a fastify user writes it: a response schema, so fast-json-stringify serializes.
    const schema = {
      response: {
        200: {
          type: 'object',
          properties: {
            status: { type: 'integer' },
            data: { type: 'object', properties: { api: { type: 'string' }, version: { type: 'string' } } },
            count: { type: 'integer' },
          },
        },
      },
    };
    app.get('/api/info', { schema }, async () => ({ status: 200, data: body, count: 2 }));
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    return { url, close: () => app.close() };
  },
};

const framework: HttpTarget = {
  name: 'FusionServer (auth + info)',
  async start() {
    const running = await startFusionServer({
      server: { log_requests: false },
      storage: { url: 'memory://' },
      auth: benchAuthSection(benchApiKey()),
      info: { api: API, version: VERSION },
    });
    return {
        url: running.url,
        async close() {
          const { logBytes } = await running.close();
          console.log(`framework log file: ${logBytes} bytes (audit lines at the environment's level)`);
        },
      };
  },
};

/** Runs the comparison; prints the table and the docs/performance.md row. */
export default async function main(args: string[]): Promise<void> {
  const load = sampleLoad();
  const result = await compareHttp({
    baseline: bare,
    candidate: framework,
    requests: { method: 'GET', path: '/api/info' },
    rounds: 4,
    ...benchOptions(args),
  });
  printHttpSummary('GET /api/info (public, auth API mounted)', result, load.stop(), 0.9);
}
