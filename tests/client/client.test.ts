import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { connect as netConnect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FusionClient } from '../../src/client/client.js';
import { FusionClientError, isFusionClientError } from '../../src/client/errors.js';
import { FUSION_VERSION } from '../../src/helper/version.js';
import { Info } from '../../src/concept/index.js';

/** What the test server saw of the last request. */
let seen: { method?: string; url?: string; headers: IncomingMessage['headers']; body: string } = { headers: {}, body: '' };
type Reply = (req: IncomingMessage, res: ServerResponse) => void;
const routes: Record<string, Reply> = {
  '/api/info': (_req, res) => json(res, 200, { status: 200, data: { api: 'demo', version: '1' }, count: 2 }),
  '/api/infos': (_req, res) => json(res, 200, { status: 200, data: [{ api: 'a', version: '1' }], count: 1 }),
  '/api/bad-info': (_req, res) => json(res, 200, { status: 200, data: { api: 42 } }),
  '/api/echo': (req, res) => json(res, 200, { status: 200, data: { method: req.method, url: req.url, body: seen.body } }),
  '/api/nothing': (_req, res) => json(res, 200, { status: 200 }),
  '/api/html': (_req, res) => send(res, 200, '<html>hello</html>', 'text/html'),
  '/api/gateway': (_req, res) => send(res, 502, '<html>bad gateway</html>', 'text/html'),
  '/api/edf-error': (_req, res) => json(res, 403, { status: 403, message: 'forbidden' }),
  '/api/fusion-error': (_req, res) =>
    json(res, 409, { status: 409, message: 'case is closed', code: 'FUSION_ERR_CASE_CLOSED', request_id: 'r-1' }),
  '/api/login': (_req, res) => {
    res.setHeader('set-cookie', ['FUSION_SESSION=s3cret; Path=/; HttpOnly', 'tracking=1']);
    json(res, 200, { status: 200 });
  },
  '/api/logout': (_req, res) => {
    res.setHeader('set-cookie', 'FUSION_SESSION=; Max-Age=0; Path=/');
    json(res, 200, { status: 200 });
  },
  '/api/slow': (_req, res) => {
    setTimeout(() => json(res, 200, { status: 200 }), 5000).unref(); // undici checks timeouts about once a second
  },
};

function send(res: ServerResponse, status: number, body: string, type: string): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, JSON.stringify(body), 'application/json');
}

let server: Server;
let baseUrl: string;
let proxy: Server;
let proxyUrl: string;
let tunnels = 0;
const clients: FusionClient[] = [];

function client(options: Partial<ConstructorParameters<typeof FusionClient>[0]> = {}): FusionClient {
  const c = new FusionClient({ baseUrl, ...options });
  clients.push(c);
  return c;
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      seen = { method: req.method, url: req.url, headers: req.headers, body };
      const path = (req.url ?? '').split('?')[0]!.replace(/^\/prefix/, '');
      (routes[path] ?? ((_q, r) => json(r, 404, { status: 404, message: 'not found' })))(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // a minimal CONNECT proxy
  proxy = createServer((_req, res) => res.writeHead(405).end());
  proxy.on('connect', (req, socket, head) => {
    tunnels++;
    const [host, port] = (req.url ?? '').split(':');
    const upstream = netConnect(Number(port), host, () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
}, 120_000);

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  server.closeAllConnections();
  proxy.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await new Promise((resolve) => proxy.close(resolve));
});

async function failure(promise: Promise<unknown>): Promise<FusionClientError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(isFusionClientError(error)).toBe(true);
  return error as FusionClientError;
}

describe('FusionClient options', () => {
  it.each([
    [{}, /baseUrl is required/],
    [{ baseUrl: 'ftp://x' }, /baseUrl must use http: or https:/],
    [{ baseUrl: 'not a url' }, /baseUrl must be an absolute http\(s\) URL/],
    [{ baseUrl: 'http://x/?a=1' }, /baseUrl must not have a query/],
    [{ baseUrl: 'http://x', apiKey: '' }, /apiKey must be a non-empty string/],
    [{ baseUrl: 'http://x', headersTimeout: -1 }, /headersTimeout must be a number > 0, got -1/],
    [{ baseUrl: 'http://x', bodyTimeout: 0 }, /bodyTimeout must be a number > 0/],
    [{ baseUrl: 'http://x', connections: 1.5 }, /connections must be an integer > 0/],
    [{ baseUrl: 'http://x', tls: { rejectUnauthorized: 'no' } }, /tls.rejectUnauthorized must be true or false/],
    [{ baseUrl: 'http://x', tls: { ca: 42 } }, /tls.ca must be PEM text/],
    [{ baseUrl: 'http://x', proxy: 'socks5://p' }, /proxy must use http: or https:/],
    [{ baseUrl: 'http://x', cookieName: 'bad name' }, /cookieName must be a cookie name/],
    [{ baseUrl: 'http://x', headers: { 'x-a': 'b\r\nc' } }, /headers.x-a must be/],
  ])('refuses %j naming the option', (options, message) => {
    expect(() => new FusionClient(options as ConstructorParameters<typeof FusionClient>[0])).toThrow(message);
  });

  it('keeps a base path prefix', async () => {
    const c = client({ baseUrl: `${baseUrl}/prefix/` });
    await c.get('/api/nothing');
    expect(seen.url).toBe('/prefix/api/nothing');
  });
});

describe('FusionClient requests', () => {
  it('sends JSON, the query string, User-Agent and the API key, and unwraps data', async () => {
    const c = client({ apiKey: 'k'.repeat(20) });
    const data = await c.post('/api/echo', { a: 1 }, { query: { q: 'x y', n: 2, list: ['a', 'b'], skip: undefined } });
    expect(data).toEqual({ method: 'POST', url: '/api/echo?q=x+y&n=2&list=a&list=b', body: '{"a":1}' });
    expect(seen.headers['user-agent']).toBe(`fusion-client/${FUSION_VERSION}`);
    expect(seen.headers['x-fusion-api-token']).toBe('k'.repeat(20));
    expect(seen.headers['content-type']).toBe('application/json');
    expect(await c.get('/api/nothing')).toBeUndefined();
  });

  it('decodes concepts and lists of concepts', async () => {
    const c = client();
    const info = await c.getConcept('/api/info', Info);
    expect(info).toBeInstanceOf(Info);
    expect(info.api).toBe('demo');
    const list = await c.getConceptList('/api/infos', Info);
    expect(list.map((i) => i.api)).toEqual(['a']);
    const bad = await failure(c.getConcept('/api/bad-info', Info));
    expect(bad).toMatchObject({ code: 'FUSION_ERR_BAD_RESPONSE', message: expect.stringContaining('Info.') });
    expect((await failure(c.getConceptList('/api/info', Info))).code).toBe('FUSION_ERR_BAD_RESPONSE');
  });

  it('throws FusionClientError with status, code, message and request id', async () => {
    const c = client();
    const fusion = await failure(c.get('/api/fusion-error'));
    expect(fusion).toBeInstanceOf(FusionClientError);
    expect(fusion).toMatchObject({ status: 409, code: 'FUSION_ERR_CASE_CLOSED', message: 'case is closed', requestId: 'r-1', endpoint: 'GET /api/fusion-error' });
    // edf_fusion answers without a code: derived from the status
    expect(await failure(c.get('/api/edf-error'))).toMatchObject({ status: 403, code: 'FUSION_ERR_FORBIDDEN', message: 'forbidden', requestId: null });
    expect(await failure(c.get('/api/gateway'))).toMatchObject({ status: 502, code: 'FUSION_ERR_INTERNAL', message: 'HTTP 502 from GET /api/gateway' });
    expect(await failure(c.get('/api/html'))).toMatchObject({ status: 200, code: 'FUSION_ERR_BAD_RESPONSE' });
    expect(await failure(c.requestRaw('GET', '/api/fusion-error'))).toMatchObject({ status: 409, code: 'FUSION_ERR_CASE_CLOSED' });
    const raw = await c.requestRaw('GET', '/api/html');
    expect(await raw.body.text()).toBe('<html>hello</html>');
  });

  it('keeps the session cookie from Set-Cookie and forgets it on logout', async () => {
    const c = client();
    await c.post('/api/login', { data: { username: 'u', password: 'p' } });
    expect(c.sessionCookie).toBe('s3cret');
    await c.get('/api/nothing');
    expect(seen.headers.cookie).toBe('FUSION_SESSION=s3cret');
    await c.get('/api/logout');
    await c.get('/api/nothing');
    expect(seen.headers.cookie).toBeUndefined();
  });

  it('reports timeouts and unreachable servers with stable codes', async () => {
    expect(await failure(client({ headersTimeout: 50 }).get('/api/slow'))).toMatchObject({ status: 0, code: 'FUSION_ERR_TIMEOUT' });
    const closedPort = await new Promise<number>((resolve) => {
      const probe = createServer();
      probe.listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const refused = await failure(client({ baseUrl: `http://127.0.0.1:${closedPort}` }).get('/api/info'));
    expect(refused).toMatchObject({ status: 0, code: 'FUSION_ERR_CONNECTION', message: expect.stringContaining('ECONNREFUSED') });
    const closed = client();
    await closed.close();
    expect((await failure(closed.get('/api/info'))).code).toBe('FUSION_ERR_CONNECTION');
  });

  it('goes through an HTTP proxy', async () => {
    const before = tunnels;
    const c = client({ proxy: proxyUrl });
    expect(await c.getConcept('/api/info', Info)).toBeInstanceOf(Info);
    expect(tunnels).toBe(before + 1);
  });

  it('refuses a path that does not start with /', async () => {
    await expect(client().get('api/info')).rejects.toThrow(/path must start with '\/'/);
  });
});
