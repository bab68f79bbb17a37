import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { FastifyInstance } from 'fastify';
import { FusionAPI } from '../../src/server/api.js';
import type { FusionServer } from '../../src/server/server.js';
import { startServer } from './harness.js';
import type { Harness } from './harness.js';

/** One body route and one query route with typed fields. */
class TypedAPI extends FusionAPI {
  readonly name = 'typed';
  setup(app: FastifyInstance, server: FusionServer): void {
    server.route(
      app,
      {
        method: 'POST',
        url: '/api/typed/body',
        operation: 'typed_body',
        public: true,
        body: {
          type: 'object',
          properties: { name: { type: 'string' }, count: { type: 'integer', default: 1 } },
          required: ['name'],
          additionalProperties: false,
        },
      },
      ({ body }) => body,
    );
    server.route(
      app,
      {
        method: 'GET',
        url: '/api/typed/query',
        operation: 'typed_query',
        public: true,
        query: { type: 'object', properties: { limit: { type: 'integer', minimum: 1 } } },
      },
      ({ query }) => query,
    );
  }
}

let harness: Harness;
beforeAll(async () => {
  harness = await startServer({ apis: [new TypedAPI()] });
}, 120_000);
afterAll(async () => harness?.close());

async function post(body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${harness.url}/api/typed/body`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe('request validation', () => {
  it('refuses a body field of the wrong type instead of coercing it', async () => {
    const { status, json } = await post({ name: 42 });
    expect(status).toBe(400);
    expect(json.code).toBe('FUSION_ERR_VALIDATION');
    expect(String(json.message)).toContain('name');
  });

  it('refuses unknown body keys instead of dropping them', async () => {
    const { status, json } = await post({ name: 'x', nmae: 'typo' });
    expect(status).toBe(400);
    expect(String(json.message)).toContain('nmae');
  });

  it('applies defaults and accepts a valid body', async () => {
    expect(await post({ name: 'x' })).toEqual({ status: 200, json: { status: 200, data: { name: 'x', count: 1 }, count: 2 } });
  });

  it('still coerces query strings, which are text', async () => {
    const res = await fetch(`${harness.url}/api/typed/query?limit=5`);
    expect(await res.json()).toEqual({ status: 200, data: { limit: 5 }, count: 1 });
    const bad = await fetch(`${harness.url}/api/typed/query?limit=zero`);
    expect(bad.status).toBe(400);
  });
});
