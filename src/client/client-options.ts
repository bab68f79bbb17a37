/** FusionClient options, checked once in the constructor: a bad option is named in the error. */

/** TLS settings of the connection to the server (undici `connect` options). */
export interface FusionClientTlsOptions {
  /** PEM CA certificate(s) to trust instead of the system store. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Verify the server certificate (default true). */
  rejectUnauthorized?: boolean;
}

/** Options of FusionClient. Times are milliseconds (undici checks them about once a second). */
export interface FusionClientOptions {
  /** Base URL of the service, e.g. `https://case.example.org` (a path prefix is kept). */
  baseUrl: string | URL;
  /** API key sent as `X-Fusion-API-Token` (service-to-service clients). */
  apiKey?: string;
  /** Time to wait for the response headers (default 30000). */
  headersTimeout?: number;
  /** Time allowed between two chunks of the response body (default 30000). */
  bodyTimeout?: number;
  /** Time to establish a connection (default 10000). */
  connectTimeout?: number;
  /** TLS options. */
  tls?: FusionClientTlsOptions;
  /** HTTP(S) proxy URL; requests then go through an undici ProxyAgent. */
  proxy?: string | URL;
  /** Most connections kept to the server (default 10). */
  connections?: number;
  /** Name of the server's session cookie (default FUSION_SESSION, as the auth API's default). */
  cookieName?: string;
  /** Extra headers sent with every request. */
  headers?: Record<string, string>;
}

/** Options after checking, with defaults applied. */
export interface CheckedClientOptions {
  origin: string;
  basePath: string;
  apiKey: string | undefined;
  headersTimeout: number;
  bodyTimeout: number;
  connectTimeout: number;
  tls: { ca?: string | Buffer | Array<string | Buffer>; rejectUnauthorized: boolean };
  proxy: string | undefined;
  connections: number;
  cookieName: string;
  headers: Record<string, string>;
}

function fail(name: string, problem: string): never {
  throw new TypeError(`FusionClient: ${name} ${problem}`);
}

function positive(name: string, value: unknown, fallback: number, integer = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    fail(name, `must be ${integer ? 'an integer' : 'a number'} > 0, got ${String(value)}`);
  }
  return value;
}

function httpUrl(name: string, value: unknown): URL {
  let url: URL;
  try {
    url = new URL(value instanceof URL ? value.href : String(value));
  } catch {
    fail(name, `must be an absolute http(s) URL, got ${JSON.stringify(String(value))}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') fail(name, `must use http: or https:, got ${url.protocol}`);
  return url;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Checks every option and applies defaults; throws a TypeError naming the first bad option. */
export function checkClientOptions(options: FusionClientOptions): CheckedClientOptions {
  if (typeof options !== 'object' || options === null) fail('options', 'must be an object with at least baseUrl');
  if (options.baseUrl === undefined) fail('baseUrl', 'is required');
  const base = httpUrl('baseUrl', options.baseUrl);
  if (base.search || base.hash) fail('baseUrl', 'must not have a query or a fragment');
  if (options.apiKey !== undefined && (typeof options.apiKey !== 'string' || options.apiKey === '' || /[\r\n]/.test(options.apiKey))) {
    fail('apiKey', 'must be a non-empty string on one line');
  }
  const tls = options.tls ?? {};
  if (typeof tls !== 'object' || tls === null) fail('tls', 'must be an object { ca?, rejectUnauthorized? }');
  if (tls.rejectUnauthorized !== undefined && typeof tls.rejectUnauthorized !== 'boolean') {
    fail('tls.rejectUnauthorized', 'must be true or false');
  }
  const cas = tls.ca === undefined ? [] : Array.isArray(tls.ca) ? tls.ca : [tls.ca];
  if (cas.some((ca) => typeof ca !== 'string' && !Buffer.isBuffer(ca))) fail('tls.ca', 'must be PEM text, a Buffer or a list of them');
  const proxy = options.proxy === undefined ? undefined : httpUrl('proxy', options.proxy).href;
  const cookieName = options.cookieName ?? 'FUSION_SESSION';
  if (typeof cookieName !== 'string' || !TOKEN.test(cookieName)) fail('cookieName', `must be a cookie name, got ${String(cookieName)}`);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    if (!TOKEN.test(name) || typeof value !== 'string' || /[\r\n]/.test(value)) fail(`headers.${name}`, 'must be a header name with a one-line string value');
    headers[name.toLowerCase()] = value;
  }
  return {
    origin: base.origin,
    basePath: base.pathname.replace(/\/+$/, ''),
    apiKey: options.apiKey,
    headersTimeout: positive('headersTimeout', options.headersTimeout, 30_000),
    bodyTimeout: positive('bodyTimeout', options.bodyTimeout, 30_000),
    connectTimeout: positive('connectTimeout', options.connectTimeout, 10_000),
    tls: { ...(cas.length ? { ca: tls.ca } : {}), rejectUnauthorized: tls.rejectUnauthorized ?? true },
    proxy,
    connections: positive('connections', options.connections, 10, true),
    cookieName,
    headers,
  };
}
