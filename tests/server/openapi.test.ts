import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Validator } from '@seriousme/openapi-schema-validator';
import { createLogger } from '../../src/helper/logging.js';
import { FUSION_ERRORS } from '../../src/helper/errors.js';
import { buildRoute } from '../../src/server/route.js';
import { FusionServer } from '../../src/server/server.js';

interface Operation {
  security?: Record<string, string[]>[];
  parameters?: { in: string; name: string }[];
  responses: Record<string, { description: string; headers?: Record<string, unknown>; content?: Record<string, { schema: Record<string, unknown> }> }>;
}
interface OpenApiDoc {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Record<string, unknown>>; securitySchemes: Record<string, Record<string, unknown>> };
}

const BODYLESS_STATUSES = new Set(['101', '204']);

/** The FUSION_ERR_* codes an error response names (its `code` enum). */
function codesOf(response: Operation['responses'][string] | undefined): string[] {
  const schema = response?.content?.['application/json']?.schema as { allOf?: { properties?: { code?: { enum?: string[] } } }[] } | undefined;
  return schema?.allOf?.[1]?.properties?.code?.enum ?? [];
}

/** Every object under `node` that has a string `title` and `type: 'object'` (a schema left inline). */
function titledSchemas(node: unknown, found: string[] = []): string[] {
  if (Array.isArray(node)) for (const item of node) titledSchemas(item, found);
  else if (node !== null && typeof node === 'object') {
    const record = node as Record<string, unknown>;
    if (typeof record.title === 'string' && record.type === 'object') found.push(record.title);
    for (const value of Object.values(record)) titledSchemas(value, found);
  }
  return found;
}

describe('the OpenAPI document of a server with every built-in API', () => {
  let dir: string;
  let server: FusionServer;
  let doc: OpenApiDoc;
  const routes: { method: string; url: string; hidden: boolean }[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fusion-openapi-'));
    server = await FusionServer.fromConfig(
      {
        server: { docs: true },
        storage: { url: 'memory://' },
        auth: { backend: { strategy: 'basic', basic: { users: [] } } },
        info: { api: 'every-api' },
        constant: { path: join(dir, 'constant.yaml') },
        case: {},
        download: {},
        event: {},
        cloud: { root: join(dir, 'cloud') },
        analyzers: {},
        metrics: { enabled: true },
        rpc: {},
        tcp: {},
      },
      { logger: createLogger({ level: 'silent' }) },
    );
    server.fastify.addHook('onRoute', (route) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      for (const method of methods) routes.push({ method, url: route.url, hidden: (route.schema as { hide?: boolean } | undefined)?.hide === true });
    });
    // Routes are added when the APIs are set up (ready); storage is not opened: the document does not need it.
    await server.fastify.ready();
    doc = server.fastify.swagger() as unknown as OpenApiDoc;
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('is a valid OpenAPI 3 document (and the validator does refuse a broken one)', async () => {
    const result = await new Validator().validate(structuredClone(doc) as never);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    const broken = structuredClone(doc) as unknown as { paths: Record<string, Record<string, { responses: unknown }>> };
    broken.paths['/api/health']!.get!.responses = { 200: { content: {} } }; // a response without its description
    expect((await new Validator().validate(broken as never)).valid).toBe(false);
  });

  it('holds every route the server registered, with its method', () => {
    // Only the document's own routes stay out of it (@fastify/websocket hides /api/rpc; its transform shows it again).
    const isDocRoute = (url: string): boolean => url === '/api/openapi.json' || url.startsWith('/api/docs');
    expect(routes.filter((route) => route.hidden && !isDocRoute(route.url)).map((route) => route.url)).toEqual(['/api/rpc']);
    const shown = routes.filter((route) => !isDocRoute(route.url));
    const gets = new Set(shown.filter((route) => route.method === 'GET').map((route) => route.url));
    expect(shown.length).toBeGreaterThan(60);
    const missing: string[] = [];
    for (const { method, url } of shown) {
      if (method === 'HEAD' && gets.has(url)) continue; // fastify's automatic HEAD of a GET
      const path = url.replace(/:([A-Za-z0-9_]+)/g, '{$1}').replace(/\*$/, '{*}');
      if (doc.paths[path]?.[method.toLowerCase()] === undefined) missing.push(`${method} ${url}`);
    }
    expect(missing).toEqual([]);
  });

  it('declares each concept once in components.schemas and references it', () => {
    const names = Object.keys(doc.components.schemas);
    expect(names).toEqual(expect.arrayContaining(['ErrorEnvelope', 'Case', 'CaseInput', 'CasePatch', 'Identity', 'AuthInfo', 'Info', 'Constant', 'Analysis', 'AnalyzerInfo']));
    expect(titledSchemas(doc.paths)).toEqual([]);
    const update = doc.paths['/api/case/{case_guid}']!.put! as Operation & { requestBody: { content: Record<string, { schema: unknown }> } };
    expect(update.requestBody.content['application/json']!.schema).toEqual({ $ref: '#/components/schemas/CasePatch' });
    const read = doc.paths['/api/case/{case_guid}']!.get!.responses['200']!.content!['application/json']!.schema as { properties: { data: unknown } };
    expect(read.properties.data).toEqual({ $ref: '#/components/schemas/Case' });
  });

  it('lists every error a route can answer under its status, with codes of that status only', () => {
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        const errorStatuses = Object.keys(operation.responses).filter((status) => Number(status) >= 400);
        expect({ route: `${method} ${path}`, errors: errorStatuses.length > 0 }).toEqual({ route: `${method} ${path}`, errors: true });
        for (const status of errorStatuses) {
          const codes = codesOf(operation.responses[status]);
          expect(codes.length).toBeGreaterThan(0);
          for (const code of codes) expect(`${code} ${FUSION_ERRORS[code as keyof typeof FUSION_ERRORS]?.status}`).toBe(`${code} ${status}`);
        }
        for (const status of Object.keys(operation.responses)) expect(status === 'default' || /^\d{3}$/.test(status) || BODYLESS_STATUSES.has(status)).toBe(true);
      }
    }
    const read = doc.paths['/api/case/{case_guid}']!.get!;
    expect(codesOf(read.responses['400'])).toEqual(['FUSION_ERR_BAD_GUID']);
    expect(codesOf(read.responses['401'])).toEqual(['FUSION_ERR_UNAUTHORIZED']);
    expect(codesOf(read.responses['403'])).toEqual(['FUSION_ERR_FORBIDDEN']);
    expect(codesOf(read.responses['404'])).toEqual(['FUSION_ERR_CASE_NOT_FOUND']);
    expect(read.responses['409']).toBeUndefined();
    const update = doc.paths['/api/case/{case_guid}']!.put!;
    expect(codesOf(update.responses['409'])).toEqual(['FUSION_ERR_CASE_CLOSED']);
    expect(codesOf(update.responses['413'])).toEqual(['FUSION_ERR_BODY_TOO_LARGE']);
    expect(codesOf(update.responses['415'])).toEqual(['FUSION_ERR_UNSUPPORTED_MEDIA_TYPE']);
    expect(update.responses['404']!.description).toContain('FUSION_ERR_CASE_NOT_FOUND: List cases');
    const create = doc.paths['/api/case']!.post!;
    expect(codesOf(create.responses['409'])).toEqual(['FUSION_ERR_CASE_EXISTS']);
    expect(create.responses['404']).toBeUndefined();
    // A raw upload: the cloud's own limits, no JSON body errors.
    const upload = doc.paths['/api/cloud/file/{*}']!.put!;
    expect(codesOf(upload.responses['413'])).toEqual(['FUSION_ERR_CLOUD_QUOTA', 'FUSION_ERR_CLOUD_TOO_LARGE']);
    expect(upload.responses['415']).toBeUndefined();
    expect(codesOf(upload.responses['400'])).not.toContain('FUSION_ERR_BAD_JSON');
  });

  it('documents login (Set-Cookie, 429 with Retry-After) and the SSE stream (text/event-stream, Last-Event-ID)', () => {
    const login = doc.paths['/api/auth/login']!.post!;
    expect(Object.keys(login.responses['200']!.headers ?? {})).toEqual(['Set-Cookie']);
    expect(codesOf(login.responses['429'])).toEqual(['FUSION_ERR_RATE_LIMITED']);
    expect(Object.keys(login.responses['429']!.headers ?? {})).toEqual(['Retry-After']);
    expect(codesOf(login.responses['401'])).toEqual(['FUSION_ERR_LOGIN_FAILED']);
    const sse = doc.paths['/api/events/case/{case_guid}']!.get!;
    expect(Object.keys(sse.responses['200']!.content ?? {})).toEqual(['text/event-stream']);
    expect(sse.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ in: 'header', name: 'Last-Event-ID' })]));
  });

  it('declares the API key, cookie and bearer schemes, and the security of each route', () => {
    expect(doc.components.securitySchemes).toMatchObject({
      apiKey: { type: 'apiKey', in: 'header', name: 'X-Fusion-API-Token' },
      session: { type: 'apiKey', in: 'cookie', name: 'FUSION_SESSION' },
      bearer: { type: 'http', scheme: 'bearer' },
    });
    const any = [{ apiKey: [] }, { session: [] }, { bearer: [] }];
    expect(doc.paths['/api/case/{case_guid}']!.get!.security).toEqual(any);
    expect(doc.paths['/api/health']!.get!.security).toEqual([]);
    expect(doc.paths['/api/auth/login']!.post!.security).toEqual([]);
    // cloud routes resolve the caller themselves: credentials optional
    expect(doc.paths['/api/cloud/tree']!.get!.security).toEqual([{}, ...any]);
  });
});

describe('route() and the errors a spec declares', () => {
  it('refuses a code that is not in FUSION_ERRORS when the route is declared', () => {
    const spec = { method: 'GET' as const, url: '/api/x', operation: 'x', public: true as const, errors: ['FUSION_ERR_NO_SUCH_THING' as never] };
    expect(() => buildRoute({} as never, spec, () => null)).toThrow(/FUSION_ERR_NO_SUCH_THING, which is not a FUSION_ERR_\* code/);
  });
});
