import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { FastifyInstance } from 'fastify';
import { FusionAPI } from '../../src/server/api.js';
import type { FusionServer } from '../../src/server/server.js';
import { startServer } from './harness.js';
import type { Harness } from './harness.js';

let finished: () => void = () => undefined;
const handlerDone = new Promise<void>((resolve) => {
  finished = resolve;
});

/** A handler that streams on the raw response, waits for its client to leave, then returns. */
class StreamingAPI extends FusionAPI {
  readonly name = 'streaming';
  setup(app: FastifyInstance, server: FusionServer): void {
    server.route(app, { method: 'GET', url: '/api/streaming', operation: 'stream', public: true }, async ({ reply }) => {
      reply.raw.writeHead(200, { 'content-type': 'text/plain' });
      reply.raw.write('first chunk\n');
      await once(reply.raw, 'close');
      finished();
      return { late: true };
    });
  }
}

let harness: Harness;
beforeAll(async () => {
  harness = await startServer({ apis: [new StreamingAPI()] });
}, 120_000);
afterAll(async () => harness?.close());

describe('route() with a streaming handler', () => {
  it('sends nothing more once the client has left, logs no error, and keeps serving', async () => {
    const { hostname, port } = new URL(harness.url);
    const req = httpRequest({ hostname, port, path: '/api/streaming' });
    req.end();
    const [res] = (await once(req, 'response')) as [NodeJS.ReadableStream];
    await once(res, 'data');
    req.destroy();
    await handlerDone;
    await new Promise((resolve) => setTimeout(resolve, 50));
    const errors = harness.logs.filter((line) => typeof line.level === 'number' && line.level >= 50);
    expect(errors).toEqual([]);
    expect(await harness.client.get('/api/health')).toEqual({ status: 'ok' });
  });
});
