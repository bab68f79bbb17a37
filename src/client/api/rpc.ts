/**
 * FusionRpcClient: the client of `GET /api/rpc` (JSON-RPC 2.0 over WebSocket, on `ws`).
 * `call`, `stream` (an async iterator; `break` sends rpc.cancel), `handle` (answers the
 * server's reverse requests), `join`/`leave` (channel messages with their ids), and
 * reconnection with backoff that authenticates again (fresh headers or ticket), says hello
 * again and re-joins every channel with `since` = the last id it received, so no message is
 * lost or duplicated across a reconnect. Each request carries the caller's trace context
 * (`traceparent`, a no-op without an OpenTelemetry SDK); reverse requests and channel messages
 * that carry one are handled inside it. Typed by a service's `defineRpc` table:
 * `new FusionRpcClient<typeof methods>(...)` (with `import type`).
 */
import type { Duplex } from 'node:stream';
import { ROOT_CONTEXT, SpanKind, context, isSpanContextValid, trace } from '@opentelemetry/api';
import type { Context, Span } from '@opentelemetry/api';
import WebSocket from 'ws';
import type { RawData } from 'ws';
import { fusionSerializer } from '../../concept/serializer.js';
import { DeadlineSweep } from '../../helper/deadline-sweep.js';
import { currentTraceCarrier, extractTraceContext, fusionTracer, recordSpanError, traceCarrierOf, withSpan } from '../../helper/telemetry.js';
import type { RpcCall, RpcItemOf, RpcParamsOf, RpcResultOf } from '../../concept/rpc-types.js';
import { FusionClientError } from '../errors.js';

/** Any method table (the untyped default: every name, object params, unknown results). */
export type UntypedRpc = Record<string, { handler: (call: RpcCall<Record<string, unknown>>) => unknown }>;

/** Reconnection tuning. */
export interface RpcReconnectOptions {
  /** First delay in ms (default 100), doubled per failure up to maxDelayMs. */
  minDelayMs?: number;
  /** Longest delay in ms (default 5000). */
  maxDelayMs?: number;
  /** Give up after this many failed attempts in a row (default: never). */
  maxAttempts?: number;
}

/** Options of FusionRpcClient. */
export interface FusionRpcClientOptions {
  /** The service's base URL (`http://host:port`) or the WebSocket URL (`ws://host:port/api/rpc`). */
  url: string;
  /** Sends `X-Fusion-API-Token`. */
  apiKey?: string;
  /** Sends `Authorization: Bearer ...`. */
  bearer?: string;
  /** Sends `Cookie: ...` (e.g. `FUSION_SESSION=...`). */
  cookie?: string;
  /** Headers for each (re)connection, e.g. fresh credentials. */
  headers?: () => Record<string, string> | Promise<Record<string, string>>;
  /** A ticket for each (re)connection (from POST /api/rpc/ticket); replaces headers. */
  ticket?: () => Promise<string>;
  /** Origin header (browsers send one; tests may too). */
  origin?: string;
  /** `rpc.hello` client_type. */
  clientType?: string;
  /** Params/results codec (default json). */
  codec?: 'json' | 'superjson';
  /** Default timeout of calls in ms (default 30000). */
  timeoutMs?: number;
  /** Reconnect after a lost connection (default true). */
  reconnect?: boolean | RpcReconnectOptions;
  /** Called after each successful reconnection (channels re-joined). */
  onReconnect?(): void;
  /** Called when the connection drops (code, reason). */
  onDisconnect?(code: number, reason: string): void;
}

/** A JSON-RPC error answered by the server (or the peer). */
export class FusionRpcError extends Error {
  /** The JSON-RPC code (-32602, -32004...). */
  readonly rpcCode: number;
  /** The FUSION_ERR_* code in `error.data.code` (FUSION_ERR_INTERNAL when absent). */
  readonly code: string;

  constructor(rpcCode: number, code: string, message: string) {
    super(message);
    this.name = 'FusionRpcError';
    this.rpcCode = rpcCode;
    this.code = code;
  }
}

/** What `join` resolves with. */
export interface RpcJoinResult {
  members: string[];
  last_id: number;
}

/** Options of join. */
export interface RpcJoinOptions {
  /** Replay what came after this id (default: only new messages). */
  since?: number;
  /** Called when the server could not replay (`rpc.reset`): messages before `lastId` are lost to this client. */
  onReset?(lastId: number): void;
  /** Called when the server took this client out of the channel (`rpc.left`; `forbidden`: it lost access); it is not re-joined. */
  onLeft?(reason: string): void;
}

/** A stream: iterate its items; `result` is the final answer. */
export interface RpcStream<Item, Result> extends AsyncIterable<Item> {
  /** The final response (rejects with the call's error). */
  readonly result: Promise<Result>;
  /** Cancels the call (rpc.cancel). */
  cancel(): void;
}

type ParamsArgs<D, K extends keyof D> = Record<string, never> extends RpcParamsOf<D, K> ? [params?: RpcParamsOf<D, K>] : [params: RpcParamsOf<D, K>];

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  onItem?(value: unknown): void;
  /** When the call times out (ms since the epoch; Infinity: never, the hello). */
  deadline: number;
  expire(): void;
  /** The call's CLIENT span (none for the hello). */
  span?: Span;
}

interface Joined {
  onMessage(data: unknown, id: number): void;
  options: RpcJoinOptions;
  lastId: number;
}

interface Frame {
  jsonrpc?: string;
  id?: number | string | null;
  method?: string;
  params?: Record<string, unknown>;
  traceparent?: unknown;
  tracestate?: unknown;
  result?: unknown;
  error?: { code: number; message: string; data?: { code?: string } };
}

const noop = (): void => undefined;

/** Resolves (no `error`) or rejects a pending call and ends its span. */
function settle(pending: Pending, error: Error | undefined, value?: unknown): void {
  if (error === undefined) {
    pending.span?.end();
    pending.resolve(value);
    return;
  }
  if (pending.span !== undefined) {
    if (error instanceof FusionRpcError) pending.span.setAttribute('rpc.jsonrpc.error_code', error.rpcCode);
    recordSpanError(pending.span, error);
    pending.span.end();
  }
  pending.reject(error);
}

function connectionError(message: string, cause?: unknown): FusionClientError {
  return new FusionClientError({ status: 0, code: 'FUSION_ERR_CONNECTION', message, endpoint: 'GET /api/rpc' }, cause === undefined ? undefined : { cause });
}

function toWsUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.protocol === 'http:') parsed.protocol = 'ws:';
  if (parsed.protocol === 'https:') parsed.protocol = 'wss:';
  if (!parsed.pathname.endsWith('/api/rpc')) parsed.pathname = `${parsed.pathname.replace(/\/$/, '')}/api/rpc`;
  return parsed.toString();
}

/** The RPC client (see the file comment). */
export class FusionRpcClient<D = UntypedRpc> {
  readonly #options: FusionRpcClientOptions;
  readonly #url: string;
  readonly #pending = new Map<number, Pending>();
  readonly #handlers = new Map<string, (params: unknown) => unknown>();
  readonly #joined = new Map<string, Joined>();
  readonly #deadlines = new DeadlineSweep<Pending>();
  #corked: Duplex | null = null;
  readonly #uncork = (): void => {
    const raw = this.#corked;
    this.#corked = null;
    raw?.uncork();
  };
  #socket: WebSocket | null = null;
  #ready: Promise<void> | null = null;
  #nextId = 1;
  #closed = false;
  #attempts = 0;
  #reconnectTimer: NodeJS.Timeout | null = null;
  #connectionId: string | null = null;
  #identity: Record<string, unknown> | null = null;

  constructor(options: FusionRpcClientOptions) {
    if (typeof options?.url !== 'string') throw new TypeError('FusionRpcClient: options.url must be the service URL');
    this.#options = { ...options };
    this.#url = toWsUrl(options.url);
  }

  /** Creates a client and waits for its connection (and hello). */
  static async connect<D = UntypedRpc>(options: FusionRpcClientOptions): Promise<FusionRpcClient<D>> {
    const client = new FusionRpcClient<D>(options);
    await client.connect();
    return client;
  }

  /** The server's id of the current connection (null while disconnected). */
  get connectionId(): string | null {
    return this.#connectionId;
  }

  /** The identity the server authenticated (the hello answer). */
  get identity(): Record<string, unknown> | null {
    return this.#identity;
  }

  /** True while a connection is open. */
  get connected(): boolean {
    return this.#socket?.readyState === WebSocket.OPEN && this.#connectionId !== null;
  }

  /** Opens the connection (if not open) and says hello. */
  connect(): Promise<void> {
    if (this.#closed) return Promise.reject(connectionError('the client is closed'));
    this.#ready ??= this.#open().catch((error: unknown) => {
      this.#ready = null;
      throw error;
    });
    return this.#ready;
  }

  /** Calls `method`; rejects with FusionRpcError (the server's error) or FusionClientError (connection, timeout). */
  call<K extends Extract<keyof D, string>>(method: K, ...args: [...ParamsArgs<D, K>, options?: { timeoutMs?: number }]): Promise<RpcResultOf<D, K>> {
    const [params, options] = args as unknown as [unknown, { timeoutMs?: number } | undefined];
    // Connected (the usual case): no await before the frame leaves.
    if (this.connected) {
      try {
        return this.#send(method, params, options?.timeoutMs).promise as Promise<RpcResultOf<D, K>>;
      } catch (error) {
        return Promise.reject(error as Error);
      }
    }
    return this.#request(method, params, options?.timeoutMs).then(({ promise }) => promise as Promise<RpcResultOf<D, K>>);
  }

  /** Sends a notification (no answer). */
  async notify(method: string, params: Record<string, unknown> = {}): Promise<void> {
    await this.connect();
    this.#write({ jsonrpc: '2.0', method, params: this.#encode(params) });
  }

  /** Calls a streaming method: iterate its items; breaking out of the loop cancels the call. */
  stream<K extends Extract<keyof D, string>>(method: K, ...args: ParamsArgs<D, K>): RpcStream<RpcItemOf<D, K>, RpcResultOf<D, K>> {
    const queue: unknown[] = [];
    let wake: (() => void) | null = null;
    let finished = false;
    let failure: Error | null = null;
    let callId: number | null = null;
    const started = this.#request(method, args[0], undefined, (value) => {
      queue.push(value);
      wake?.();
    });
    const result = started.then(({ id, promise }) => {
      callId = id;
      return promise;
    });
    result.then(
      () => {
        finished = true;
        wake?.();
      },
      (error: unknown) => {
        finished = true;
        failure = error as Error;
        wake?.();
      },
    );
    const cancel = (): void => {
      if (callId !== null && !finished && this.#socket?.readyState === WebSocket.OPEN) this.#write({ jsonrpc: '2.0', method: 'rpc.cancel', params: { id: callId } });
    };
    const iterate = async function* (): AsyncGenerator<RpcItemOf<D, K>> {
      try {
        for (;;) {
          if (queue.length > 0) {
            yield queue.shift() as RpcItemOf<D, K>;
            continue;
          }
          if (finished) {
            if (failure !== null) throw failure;
            return;
          }
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          wake = null;
        }
      } finally {
        if (!finished) cancel();
      }
    };
    const stream = {
      result: result as Promise<RpcResultOf<D, K>>,
      cancel,
      [Symbol.asyncIterator]: iterate,
    };
    stream.result.catch(() => undefined);
    return stream;
  }

  /** Answers the server's reverse requests for `method` with `fn` (its throw answers with an error). */
  handle(method: string, fn: (params: unknown) => unknown): this {
    this.#handlers.set(method, fn);
    return this;
  }

  /** Joins `channel`: `onMessage(data, id)` gets each message once, across reconnections. */
  async join(channel: string, onMessage: (data: unknown, id: number) => void, options: RpcJoinOptions = {}): Promise<RpcJoinResult> {
    const joined: Joined = { onMessage, options, lastId: options.since ?? -1 };
    this.#joined.set(channel, joined);
    try {
      const result = (await this.#joinOnce(channel, joined)) as RpcJoinResult;
      return result;
    } catch (error) {
      this.#joined.delete(channel);
      throw error;
    }
  }

  /** Leaves `channel`. */
  async leave(channel: string): Promise<void> {
    this.#joined.delete(channel);
    const { promise } = await this.#request('rpc.leave', { channel });
    await promise;
  }

  /** Usernames in `channel` on every instance. */
  async presence(channel: string): Promise<string[]> {
    const { promise } = await this.#request('rpc.presence', { channel });
    return ((await promise) as { members: string[] }).members;
  }

  /** Closes the connection for good; pending calls reject. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer);
    const socket = this.#socket;
    if (socket === null || socket.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.close(1000, 'client closed');
      setTimeout(() => socket.terminate(), 2000).unref();
    });
  }

  async #joinOnce(channel: string, joined: Joined): Promise<unknown> {
    const { promise } = await this.#request('rpc.join', { channel, ...(joined.lastId >= 0 ? { since: joined.lastId } : {}) });
    const result = (await promise) as RpcJoinResult;
    if (result.last_id > joined.lastId) joined.lastId = result.last_id;
    return result;
  }

  async #request(method: string, params: unknown, timeoutMs?: number, onItem?: (value: unknown) => void): Promise<{ id: number; promise: Promise<unknown> }> {
    await this.connect();
    return this.#send(method, params, timeoutMs, onItem);
  }

  /** Writes a request on the open connection; throws when it could not be written. */
  #send(method: string, params: unknown, timeoutMs?: number, onItem?: (value: unknown) => void): { id: number; promise: Promise<unknown> } {
    const id = this.#nextId++;
    const ms = timeoutMs ?? this.#options.timeoutMs ?? 30_000;
    const span = fusionTracer().startSpan('fusion.rpc.client.call', { kind: SpanKind.CLIENT, attributes: { 'rpc.system': 'jsonrpc', 'rpc.method': method } });
    const pending: Pending = {
      resolve: noop,
      reject: noop,
      span,
      deadline: Date.now() + ms,
      expire: () => {
        this.#pending.delete(id);
        settle(pending, new FusionClientError({ status: 0, code: 'FUSION_ERR_TIMEOUT', message: `${method}: no answer within ${ms} ms`, endpoint: `rpc ${method}` }));
      },
      ...(onItem ? { onItem } : {}),
    };
    const promise = new Promise<unknown>((resolve, reject) => {
      pending.resolve = resolve;
      pending.reject = reject;
    });
    this.#pending.set(id, pending);
    this.#deadlines.add(pending);
    const internal = method.startsWith('rpc.');
    // The server continues this span's trace (no SDK and no trace to continue: nothing to add).
    const carrier = span.isRecording() || isSpanContextValid(span.spanContext()) ? currentTraceCarrier(trace.setSpan(context.active(), span)) : null;
    try {
      const frame = { jsonrpc: '2.0', id, method, params: internal ? (params ?? {}) : this.#encode(params ?? {}) };
      this.#write(carrier === null ? frame : { ...frame, ...carrier });
    } catch (error) {
      // Not sent: forget the pending call, or its later rejection (timeout, close) would be unhandled.
      this.#deadlines.delete(pending);
      this.#pending.delete(id);
      promise.catch(() => undefined);
      recordSpanError(span, error);
      span.end();
      throw error;
    }
    return { id, promise };
  }

  async #open(): Promise<void> {
    const headers: Record<string, string> = {};
    const options = this.#options;
    let url = this.#url;
    if (options.ticket) {
      url = `${url}${url.includes('?') ? '&' : '?'}ticket=${encodeURIComponent(await options.ticket())}`;
    } else {
      if (options.apiKey) headers['x-fusion-api-token'] = options.apiKey;
      if (options.bearer) headers.authorization = `Bearer ${options.bearer}`;
      if (options.cookie) headers.cookie = options.cookie;
      Object.assign(headers, (await options.headers?.()) ?? {});
    }
    const socket = new WebSocket(url, { headers, ...(options.origin ? { origin: options.origin } : {}) });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('unexpected-response', (_request, response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => {
          let envelope: { code?: string; message?: string } = {};
          try {
            envelope = JSON.parse(body) as typeof envelope;
          } catch {
            envelope = {};
          }
          reject(new FusionClientError({ status: response.statusCode ?? 0, code: envelope.code ?? 'FUSION_ERR_BAD_RESPONSE', message: envelope.message ?? `upgrade refused with ${response.statusCode}`, endpoint: 'GET /api/rpc' }));
          // Only now: terminating earlier emits 'error', whose rejection would hide the envelope.
          socket.terminate();
        });
      });
      socket.once('error', (error) => reject(connectionError(`cannot connect to ${this.#url}: ${error.message}`, error)));
    });
    this.#socket = socket;
    socket.on('message', (data: RawData) => this.#onMessage(data));
    socket.on('error', () => undefined); // 'close' follows and handles it
    socket.on('close', (code, reason) => this.#onClose(socket, code, reason.toString()));
    const id = this.#nextId++;
    const hello = new Promise<unknown>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, deadline: Number.POSITIVE_INFINITY, expire: noop });
    });
    // If the socket closed already, the write below throws and 'close' rejects `hello` later: not unhandled.
    hello.catch(() => undefined);
    this.#write({ jsonrpc: '2.0', id, method: 'rpc.hello', params: { protocol: 1, codec: options.codec ?? 'json', ...(options.clientType ? { client_type: options.clientType } : {}) } });
    const answer = (await hello) as { connection: string; identity: Record<string, unknown> };
    this.#connectionId = answer.connection;
    this.#identity = answer.identity;
    this.#attempts = 0;
  }

  #onMessage(data: RawData): void {
    let frame: Frame;
    try {
      frame = JSON.parse(data.toString()) as Frame;
    } catch {
      return;
    }
    if (typeof frame.method === 'string') {
      const carrier = traceCarrierOf(frame);
      if (frame.id !== undefined) void this.#onReverse(frame, carrier === null ? ROOT_CONTEXT : extractTraceContext(carrier, ROOT_CONTEXT));
      else if (carrier === null) this.#onNotification(frame.method, frame.params ?? {});
      // A channel message broadcast inside a span: its handler runs in that trace.
      else context.with(extractTraceContext(carrier, ROOT_CONTEXT), () => this.#onNotification(frame.method!, frame.params ?? {}));
      return;
    }
    if (typeof frame.id !== 'number') return;
    const pending = this.#pending.get(frame.id);
    if (pending === undefined) return;
    this.#pending.delete(frame.id);
    this.#deadlines.delete(pending);
    if (frame.error !== undefined) settle(pending, new FusionRpcError(frame.error.code, frame.error.data?.code ?? 'FUSION_ERR_INTERNAL', frame.error.message));
    else settle(pending, undefined, this.#decode(frame.result));
  }

  #onNotification(method: string, params: Record<string, unknown>): void {
    if (method === 'rpc.item') {
      this.#pending.get(params.id as number)?.onItem?.(this.#decode(params.value));
      return;
    }
    if (method === 'rpc.message') {
      const joined = this.#joined.get(params.channel as string);
      const id = params.id as number;
      if (joined === undefined || id <= joined.lastId) return; // not ours, or seen already
      joined.lastId = id;
      joined.onMessage(this.#decode(params.data), id);
      return;
    }
    if (method === 'rpc.left') {
      const joined = this.#joined.get(params.channel as string);
      if (joined === undefined) return;
      this.#joined.delete(params.channel as string);
      joined.options.onLeft?.(String(params.reason));
      return;
    }
    if (method === 'rpc.reset') {
      const joined = this.#joined.get(params.channel as string);
      if (joined === undefined) return;
      joined.lastId = Math.max(joined.lastId, params.last_id as number);
      joined.options.onReset?.(params.last_id as number);
    }
  }

  /** Answers a reverse request; its handler runs in a SERVER span continuing `parent` (the server's trace, or a new one). */
  async #onReverse(frame: Frame, parent: Context): Promise<void> {
    const handler = this.#handlers.get(frame.method!);
    if (handler === undefined) {
      this.#write({ jsonrpc: '2.0', id: frame.id, error: { code: -32601, message: `this client does not handle ${frame.method}`, data: { code: 'FUSION_ERR_RPC_METHOD_NOT_FOUND' } } });
      return;
    }
    try {
      const params = this.#decode(frame.params);
      const attributes = { 'rpc.system': 'jsonrpc', 'rpc.method': frame.method!, ...(typeof frame.id === 'string' ? { 'rpc.jsonrpc.request_id': frame.id } : {}) };
      const result = await withSpan('fusion.rpc.client.handle', attributes, () => handler(params), { kind: SpanKind.SERVER, parent });
      this.#write({ jsonrpc: '2.0', id: frame.id, result: this.#encode(result) ?? null });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.#write({ jsonrpc: '2.0', id: frame.id, error: { code: -32000, message, data: { code: (error as { code?: string }).code ?? 'FUSION_ERR_INTERNAL' } } });
    }
  }

  #onClose(socket: WebSocket, code: number, reason: string): void {
    if (this.#socket !== socket) return;
    this.#socket = null;
    this.#ready = null;
    this.#connectionId = null;
    const error = connectionError(`the connection closed (${code}${reason ? `: ${reason}` : ''})`);
    for (const pending of this.#pending.values()) settle(pending, error);
    this.#pending.clear();
    this.#deadlines.clear();
    this.#options.onDisconnect?.(code, reason);
    if (!this.#closed && this.#options.reconnect !== false) this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    const tuning = typeof this.#options.reconnect === 'object' ? this.#options.reconnect : {};
    if (tuning.maxAttempts !== undefined && this.#attempts >= tuning.maxAttempts) return;
    const min = tuning.minDelayMs ?? 100;
    const max = tuning.maxDelayMs ?? 5000;
    const base = Math.min(max, min * 2 ** this.#attempts);
    this.#attempts++;
    const delay = base / 2 + Math.random() * (base / 2);
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = null;
      if (this.#closed) return;
      this.connect()
        .then(async () => {
          for (const [channel, joined] of this.#joined) await this.#joinOnce(channel, joined);
          this.#options.onReconnect?.();
        })
        .catch(() => {
          if (!this.#closed && this.#socket === null) this.#scheduleReconnect();
        });
    }, delay);
  }

  #write(frame: Record<string, unknown>): void {
    const socket = this.#socket;
    if (socket === null || socket.readyState !== WebSocket.OPEN) throw connectionError('not connected');
    // Frames written in one tick leave in one write (ws keeps the TCP socket in `_socket`).
    const raw = (socket as unknown as { _socket?: Duplex })._socket;
    if (this.#corked === null && raw !== undefined) {
      this.#corked = raw;
      raw.cork();
      setImmediate(this.#uncork);
    }
    socket.send(JSON.stringify(frame));
  }

  #encode(value: unknown): unknown {
    if (this.#options.codec !== 'superjson' || value === undefined) return value;
    return fusionSerializer.serialize(value);
  }

  #decode(value: unknown): unknown {
    if (this.#options.codec !== 'superjson' || typeof value !== 'object' || value === null || !('json' in value)) return value;
    return fusionSerializer.deserialize(value as Parameters<typeof fusionSerializer.deserialize>[0]);
  }
}
