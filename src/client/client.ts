/**
 * FusionClient: JSON over an undici Pool (or ProxyAgent), with the API key, the session cookie
 * and the envelope handled once. Every failure is a FusionClientError carrying a stable code.
 */
import type { Readable } from 'node:stream';
import { Pool, ProxyAgent } from 'undici';
import type { Dispatcher } from 'undici';
import type { Concept, ConceptConstructor } from '../concept/index.js';
import { checkClientOptions } from './client-options.js';
import type { CheckedClientOptions, FusionClientOptions } from './client-options.js';
import { SessionCookieJar } from './cookie-jar.js';
import { FusionClientError } from './errors.js';
import { FUSION_VERSION } from '../helper/version.js';

/** Per-request options. */
export interface FusionRequestOptions {
  /** JSON body (Concepts serialize through their toJSON). */
  body?: unknown;
  /** Query parameters; undefined values are left out, arrays repeat the key. */
  query?: Record<string, string | number | boolean | readonly (string | number | boolean)[] | undefined>;
  /** Extra headers for this request. */
  headers?: Record<string, string>;
  /** Aborts the request. */
  signal?: AbortSignal;
  /** A raw body (a file upload) sent as is instead of `body`; give its Content-Type in `headers`. */
  rawBody?: Readable | Uint8Array;
}

/** An undecoded answer (for streaming routes): status, headers and the body stream. */
export type FusionRawResponse = Dispatcher.ResponseData;

type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH' | 'HEAD';

const STATUS_CODES: Record<number, string> = {
  400: 'FUSION_ERR_BAD_REQUEST',
  401: 'FUSION_ERR_UNAUTHORIZED',
  403: 'FUSION_ERR_FORBIDDEN',
  404: 'FUSION_ERR_NOT_FOUND',
  405: 'FUSION_ERR_METHOD_NOT_ALLOWED',
  413: 'FUSION_ERR_BODY_TOO_LARGE',
  415: 'FUSION_ERR_UNSUPPORTED_MEDIA_TYPE',
  429: 'FUSION_ERR_RATE_LIMITED',
  503: 'FUSION_ERR_UNAVAILABLE',
  504: 'FUSION_ERR_TIMEOUT',
};

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Talks to one Fusion service. Options are checked here; a bad one is named in a TypeError. */
export class FusionClient {
  /** The checked options (base URL split into origin and path prefix). */
  readonly options: Readonly<CheckedClientOptions>;
  readonly #dispatcher: Dispatcher;
  readonly #jar: SessionCookieJar;
  readonly #headers: Record<string, string>;

  constructor(options: FusionClientOptions) {
    const checked = checkClientOptions(options);
    this.options = checked;
    this.#jar = new SessionCookieJar(checked.cookieName);
    const tls = { ...checked.tls, timeout: checked.connectTimeout };
    const common = { connections: checked.connections, headersTimeout: checked.headersTimeout, bodyTimeout: checked.bodyTimeout };
    this.#dispatcher = checked.proxy
      ? new ProxyAgent({ uri: checked.proxy, requestTls: tls, ...common })
      : new Pool(checked.origin, { ...common, connect: tls });
    this.#headers = { 'user-agent': `fusion-client/${FUSION_VERSION}`, accept: 'application/json', ...checked.headers };
    if (checked.apiKey !== undefined) this.#headers['x-fusion-api-token'] = checked.apiKey;
  }

  /** The session cookie value kept from the last login, or null. */
  get sessionCookie(): string | null {
    return this.#jar.value;
  }

  /** Forgets the session cookie. */
  clearSession(): void {
    this.#jar.clear();
  }

  /** Sends a request and returns the envelope's `data` (undefined when the answer has none). */
  async request<T = unknown>(method: HttpMethod, path: string, options: FusionRequestOptions = {}): Promise<T> {
    const endpoint = `${method} ${path}`;
    const response = await this.#send(method, path, options, endpoint);
    let text: string;
    try {
      text = await response.body.text();
    } catch (error) {
      throw this.#transportError(error, endpoint);
    }
    const envelope = this.#parse(text, response.statusCode, endpoint);
    if (response.statusCode >= 200 && response.statusCode < 300) return envelope.data as T;
    throw this.#httpError(response.statusCode, envelope, endpoint);
  }

  /** GET `path`, returning the envelope's data. */
  get<T = unknown>(path: string, options?: Omit<FusionRequestOptions, 'body'>): Promise<T> {
    return this.request<T>('GET', path, options);
  }

  /** POST `body` as JSON to `path`, returning the envelope's data. */
  post<T = unknown>(path: string, body?: unknown, options?: Omit<FusionRequestOptions, 'body'>): Promise<T> {
    return this.request<T>('POST', path, { ...options, body });
  }

  /** PUT `body` as JSON to `path`, returning the envelope's data. */
  put<T = unknown>(path: string, body?: unknown, options?: Omit<FusionRequestOptions, 'body'>): Promise<T> {
    return this.request<T>('PUT', path, { ...options, body });
  }

  /** DELETE `path`, returning the envelope's data. */
  delete<T = unknown>(path: string, options?: FusionRequestOptions): Promise<T> {
    return this.request<T>('DELETE', path, options);
  }

  /** Sends a request and decodes the envelope's data with `cls.fromJSON`. */
  async requestConcept<C extends Concept>(
    method: HttpMethod,
    path: string,
    cls: ConceptConstructor<C>,
    options?: FusionRequestOptions,
  ): Promise<C> {
    const data = await this.request(method, path, options);
    return this.#decode(cls, data, `${method} ${path}`);
  }

  /** Sends a request and decodes the envelope's data, a list, with `cls.fromJSON`. */
  async requestConceptList<C extends Concept>(
    method: HttpMethod,
    path: string,
    cls: ConceptConstructor<C>,
    options?: FusionRequestOptions,
  ): Promise<C[]> {
    const endpoint = `${method} ${path}`;
    const data = await this.request(method, path, options);
    if (!Array.isArray(data)) throw this.#badResponse(`${endpoint}: expected a list of ${conceptName(cls)}, got ${typeof data}`, endpoint);
    return data.map((item) => this.#decode(cls, item, endpoint));
  }

  /** GET `path` and decode the data with `cls` (`client.getConcept('/api/info', Info)`). */
  getConcept<C extends Concept>(path: string, cls: ConceptConstructor<C>, options?: FusionRequestOptions): Promise<C> {
    return this.requestConcept('GET', path, cls, options);
  }

  /** GET `path` and decode the data, a list, with `cls`. */
  getConceptList<C extends Concept>(path: string, cls: ConceptConstructor<C>, options?: FusionRequestOptions): Promise<C[]> {
    return this.requestConceptList('GET', path, cls, options);
  }

  /** Sends a request and returns the raw answer of a 2xx (for streams); non-2xx answers throw as usual. */
  async requestRaw(method: HttpMethod, path: string, options: FusionRequestOptions = {}): Promise<FusionRawResponse> {
    const endpoint = `${method} ${path}`;
    const response = await this.#send(method, path, options, endpoint);
    if (response.statusCode >= 200 && response.statusCode < 300) return response;
    let text = '';
    try {
      text = await response.body.text();
    } catch (error) {
      throw this.#transportError(error, endpoint);
    }
    throw this.#httpError(response.statusCode, this.#parse(text, response.statusCode, endpoint), endpoint);
  }

  /** Closes the connections; requests after close fail with FUSION_ERR_CONNECTION. */
  async close(): Promise<void> {
    await this.#dispatcher.close();
  }

  async #send(method: HttpMethod, path: string, options: FusionRequestOptions, endpoint: string): Promise<Dispatcher.ResponseData> {
    if (typeof path !== 'string' || !path.startsWith('/')) throw new TypeError(`FusionClient: path must start with '/', got ${String(path)}`);
    const headers: Record<string, string> = { ...this.#headers };
    const cookie = this.#jar.header();
    if (cookie !== undefined) headers.cookie = cookie;
    if (options.headers) for (const [name, value] of Object.entries(options.headers)) headers[name.toLowerCase()] = value;
    let body: string | Readable | Uint8Array | undefined;
    if (options.rawBody !== undefined) {
      body = options.rawBody;
    } else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    let response: Dispatcher.ResponseData;
    try {
      response = await this.#dispatcher.request({
        origin: this.options.origin,
        path: this.options.basePath + path + queryString(options.query),
        method,
        headers,
        body,
        signal: options.signal,
      });
    } catch (error) {
      throw this.#transportError(error, endpoint);
    }
    this.#jar.update(response.headers['set-cookie']);
    return response;
  }

  #parse(text: string, statusCode: number, endpoint: string): Record<string, unknown> {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
    if (isObject(value) && typeof value.status === 'number') return value;
    if (statusCode >= 200 && statusCode < 300) {
      throw this.#badResponse(`${endpoint}: HTTP ${statusCode} without a Fusion envelope: check baseUrl`, endpoint, statusCode);
    }
    return { status: statusCode };
  }

  #httpError(statusCode: number, envelope: Record<string, unknown>, endpoint: string): FusionClientError {
    const status = typeof envelope.status === 'number' && envelope.status >= 400 ? envelope.status : statusCode;
    const code = typeof envelope.code === 'string' ? envelope.code : (STATUS_CODES[status] ?? (status >= 500 ? 'FUSION_ERR_INTERNAL' : 'FUSION_ERR_BAD_REQUEST'));
    const message = typeof envelope.message === 'string' ? envelope.message : `HTTP ${statusCode} from ${endpoint}`;
    const requestId = typeof envelope.request_id === 'string' ? envelope.request_id : null;
    const retryAfter = typeof envelope.retry_after === 'number' && envelope.retry_after > 0 ? envelope.retry_after : null;
    return new FusionClientError({ status, code, message, requestId, endpoint, retryAfter });
  }

  #badResponse(message: string, endpoint: string, status = 0, cause?: unknown): FusionClientError {
    return new FusionClientError({ status, code: 'FUSION_ERR_BAD_RESPONSE', message, endpoint }, { cause });
  }

  #transportError(error: unknown, endpoint: string): FusionClientError {
    if (error instanceof FusionClientError) return error;
    const code = (error as { code?: unknown } | null)?.code;
    const detail = error instanceof Error ? error.message : String(error);
    if (typeof code === 'string' && TIMEOUT_CODES.has(code)) {
      return new FusionClientError({ status: 0, code: 'FUSION_ERR_TIMEOUT', message: `${endpoint}: timed out (${detail})`, endpoint }, { cause: error });
    }
    const where = this.options.origin + this.options.basePath;
    const message = `${endpoint}: cannot reach ${where}: ${typeof code === 'string' ? `${code} ` : ''}${detail}`;
    return new FusionClientError({ status: 0, code: 'FUSION_ERR_CONNECTION', message, endpoint }, { cause: error });
  }

  #decode<C extends Concept>(cls: ConceptConstructor<C>, data: unknown, endpoint: string): C {
    try {
      return (cls as unknown as { fromJSON(value: unknown): C }).fromJSON(data);
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      throw this.#badResponse(`${endpoint}: the answer is not a valid ${conceptName(cls)}: ${detail}`, endpoint, 200, error);
    }
  }
}

function conceptName(cls: unknown): string {
  const name = (cls as { conceptName?: unknown }).conceptName;
  return typeof name === 'string' ? name : 'concept';
}

function queryString(query: FusionRequestOptions['query']): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) params.append(key, String(item));
    else params.append(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}
