import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { FastifyInstance } from 'fastify';
import { FusionClient } from '../../src/client/client.js';
import { FusionClientError } from '../../src/client/errors.js';
import { createLogger } from '../../src/helper/logging.js';
import { FusionAPI } from '../../src/server/api.js';
import { parseConfig } from '../../src/server/config.js';
import { FusionServer } from '../../src/server/server.js';
import type { KnexStorage } from '../../src/server/storage/knex-storage.js';
import { freshStorage } from '../helpers/storage.js';
import { startServer } from './harness.js';
import type { Harness } from './harness.js';
import { ProbeAPI } from './probe-api.js';

let storage: KnexStorage;
let h: Harness;

beforeAll(async () => {
  storage = await freshStorage('pglite');
  h = await startServer({ storage, apis: [new ProbeAPI()], config: { info: { api: 'probe-service', version: '9.9.9' } } });
}, 120_000);

afterAll(async () => {
  await h?.close();
  await storage?.close();
});

/** Records setup/start/close calls in a shared journal. */
class JournalAPI extends FusionAPI {
  constructor(
    readonly name: string,
    readonly journal: string[],
    readonly failSetup = false,
  ) {
    super();
  }
  setup(app: FastifyInstance): void {
    this.journal.push(`setup ${this.name}`);
    if (this.failSetup) throw new Error(`setup of ${this.name} failed`);
    app.addHook('onRequest', async (request) => {
      request.headers['x-seen-by'] = this.name;
    });
    app.get(`/api/${this.name}/seen`, async (request) => ({ status: 200, data: request.headers['x-seen-by'] ?? null }));
  }
  override async start(): Promise<void> {
    this.journal.push(`start ${this.name}`);
  }
  override async close(): Promise<void> {
    this.journal.push(`close ${this.name}`);
  }
}

function quietServer(apis: FusionAPI[], given = storage): FusionServer {
  return new FusionServer({ config: parseConfig({}), apis, storage: given, logger: createLogger({ level: 'silent' }) });
}

describe('FusionServer', () => {
  it('answers GET /api/health when storage answers', async () => {
    expect(await h.client.get('/api/health')).toEqual({ status: 'ok' });
  });

  it('answers 503 on /api/health once storage stops answering', async () => {
    const own = await freshStorage('pglite');
    const server = quietServer([], own);
    const url = await server.listen({ host: '127.0.0.1', port: 0 });
    const client = new FusionClient({ baseUrl: url });
    try {
      await own.close();
      const error = await client.get('/api/health').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(FusionClientError);
      expect(error).toMatchObject({ status: 503, code: 'FUSION_ERR_UNAVAILABLE', message: 'storage does not answer: see the server log' });
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('serves the OpenAPI document with every route and the envelope in response schemas', async () => {
    const doc = (await (await fetch(`${h.url}/api/openapi.json`)).json()) as {
      info: { title: string; version: string };
      paths: Record<string, Record<string, { responses: Record<string, { content: Record<string, { schema: { properties: Record<string, unknown>; allOf: { $ref?: string }[] } }> }> }>>;
      components: { schemas: Record<string, { properties: Record<string, unknown> }> };
    };
    expect(doc.info).toMatchObject({ title: 'probe-service', version: '9.9.9' });
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/health', '/api/probe/echo', '/api/probe/item/{item_guid}/{other}', '/api/probe/case/{case_guid}']),
    );
    expect(Object.keys(doc.paths)).not.toContain('/api/openapi.json');
    const ok = doc.paths['/api/probe/echo']!.post!.responses['200']!.content['application/json']!.schema;
    expect(Object.keys(ok.properties)).toEqual(['status', 'data', 'count']);
    const error = doc.paths['/api/probe/echo']!.post!.responses['400']!.content['application/json']!.schema;
    expect(error.allOf[0]).toEqual({ $ref: '#/components/schemas/ErrorEnvelope' });
    expect(Object.keys(doc.components.schemas.ErrorEnvelope!.properties)).toEqual(['status', 'message', 'code', 'request_id', 'retry_after']);
    const docs = await fetch(`${h.url}/api/docs/`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('swagger');
  });

  it('sets up APIs as encapsulated plugins in order, starts them, and closes them in reverse', async () => {
    const journal: string[] = [];
    const server = quietServer([new JournalAPI('first', journal), new JournalAPI('second', journal)]);
    const url = await server.listen({ host: '127.0.0.1', port: 0 });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const client = new FusionClient({ baseUrl: url });
    // each API's onRequest hook stays in its scope
    expect(await client.get('/api/first/seen')).toBe('first');
    expect(await client.get('/api/second/seen')).toBe('second');
    await client.close();
    await server.close();
    await server.close(); // idempotent
    expect(journal).toEqual(['setup first', 'setup second', 'start first', 'start second', 'close second', 'close first']);
  });

  it('rejects a failed start and closes the APIs started before', async () => {
    const journal: string[] = [];
    const server = quietServer([new JournalAPI('good', journal), new JournalAPI('bad', journal, true)]);
    await expect(server.start()).rejects.toThrow('setup of bad failed');
    await server.close();
    expect(journal).toEqual(['setup good', 'setup bad']);
  });

  it('refuses duplicate or late mounts and a storage read before start', async () => {
    const unopened = new FusionServer({ config: parseConfig({}), logger: createLogger({ level: 'silent' }) });
    expect(() => unopened.storage).toThrow(/call server.start\(\)/);
    expect(unopened.hasStorage).toBe(false);
    await unopened.close();
    const server = quietServer([new ProbeAPI()]);
    expect(() => server.mount(new ProbeAPI())).toThrow(/already mounted/);
    await server.start();
    expect(() => server.mount(new JournalAPI('late', []))).toThrow(/after start/);
    await server.close();
  });
});

describe('FusionServer.fromConfig', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fusion-server-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads a YAML file and mounts the built-in APIs whose sections are present, opening and closing memory:// storage', async () => {
    await writeFile(join(dir, 'constant.yaml'), 'banner: TLP:CLEAR\nallow_empty_acs: true\n');
    const path = join(dir, 'service.yaml');
    await writeFile(path, 'server:\n  log_level: silent\nstorage:\n  url: memory://\ninfo:\n  api: demo\nconstant:\n  path: constant.yaml\n');
    const server = await FusionServer.fromConfig(path);
    expect(server.apis.map((api) => api.name)).toEqual(['info', 'constant']);
    const url = await server.listen({ host: '127.0.0.1', port: 0 });
    const client = new FusionClient({ baseUrl: url });
    try {
      expect(await client.get('/api/info')).toEqual({ api: 'demo', version: expect.any(String) });
      expect(await client.get('/api/constant')).toEqual({ banner: 'TLP:CLEAR', allow_empty_acs: true });
      expect(server.storage.kind).toBe('memory');
    } finally {
      await client.close();
      await server.close();
    }
    expect(server.hasStorage).toBe(false);
  });

  it("puts a service's own API in place of the built-in of the same name", async () => {
    const own = new JournalAPI('info', []);
    const server = await FusionServer.fromConfig(
      { server: { log_level: 'silent' }, storage: { url: 'memory://' }, info: { api: 'demo' }, constant: { path: 'missing.yaml' } },
      { apis: [new JournalAPI('extra', []), own] },
    );
    expect(server.apis.map((api) => api.name)).toEqual(['info', 'constant', 'extra']);
    expect(server.apis[0]).toBe(own);
  });

  it('fails with a ConfigError naming an unknown key', async () => {
    await expect(FusionServer.fromConfig({ server: { prot: 1 } })).rejects.toMatchObject({
      name: 'ConfigError',
      key: 'server.prot',
      message: expect.stringContaining('did you mean `port`'),
    });
  });
});
