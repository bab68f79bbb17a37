/** Runs the examples of docs/server.md and docs/client.md. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FusionClient, FusionClientError, FusionInfoAPIClient } from '../../src/client/index.js';
import { Info } from '../../src/concept/index.js';
import { createLogger } from '../../src/helper/index.js';
import { FusionInfoAPI, FusionServer, parseConfig } from '../../src/server/index.js';
import type { KnexStorage } from '../../src/server/storage/knex-storage.js';
import { freshStorage } from '../helpers/storage.js';
import { Scan, ScanAPI } from './scan-api.example.js';

let storage: KnexStorage;
let server: FusionServer;
let baseUrl: string;
let client: FusionClient;

beforeAll(async () => {
  storage = await freshStorage('pglite');
  // docs/server.md "Running it" (storage given here: a test shares one)
  const config = parseConfig({ server: { host: '127.0.0.1', port: 0 }, storage: { url: 'memory://' } });
  server = new FusionServer({
    config,
    apis: [new FusionInfoAPI(new Info({ api: 'scanner', version: '1.0.0' })), new ScanAPI()],
    storage,
    logger: createLogger({ level: 'silent' }),
  });
  baseUrl = await server.listen();
  client = new FusionClient({ baseUrl, headersTimeout: 10_000 });
}, 120_000);

afterAll(async () => {
  await client?.close();
  await server?.close();
  await storage?.close();
});

describe('docs/server.md', () => {
  it('answers the envelope of the example API', async () => {
    const res = await fetch(`${baseUrl}/api/scan`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ target: '10.0.0.1' }),
    });
    const body = (await res.json()) as { status: number; data: { guid: string; target: string }; count: number };
    expect(body).toEqual({ status: 200, data: { guid: expect.any(String), target: '10.0.0.1' }, count: 2 });
    const bad = await fetch(`${baseUrl}/api/scan`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"target": ""}' });
    expect(await bad.json()).toEqual({
      status: 400,
      message: 'body.target: must NOT have fewer than 1 characters',
      code: 'FUSION_ERR_VALIDATION',
      request_id: expect.any(String),
    });
    const anonymous = await fetch(`${baseUrl}/api/scans`);
    expect(anonymous.status).toBe(401);
  });
});

describe('docs/client.md', () => {
  it('calls the example API with FusionClient', async () => {
    const info = await new FusionInfoAPIClient({ client }).info();
    expect(info.api).toBe('scanner');

    const scan = await client.requestConcept('POST', '/api/scan', Scan, { body: { target: 'example.org' } });
    const again = await client.getConcept(`/api/scan/${scan.guid}`, Scan);
    expect(again.equals(scan)).toBe(true);

    try {
      await client.get('/api/scan/0f6c2d9a-3b1e-4f5a-9c8d-7e6f5a4b3c2d');
      throw new Error('expected a 404');
    } catch (error) {
      if (!(error instanceof FusionClientError) || error.code !== 'FUSION_ERR_NOT_FOUND') throw error;
      expect(error.status).toBe(404);
      expect(error.message).toContain('not found');
    }
  });
});
