/**
 * One RPC WebSocket: reads frames (a bad one is answered with an error frame, never a close),
 * runs calls with their limits (rate, in flight, timeout, cancel), streams, sends reverse
 * requests and routes their answers, and writes frames through `beforeSend` with a bound on
 * what the peer has not read (1013 past it). The writing (frame-writer.ts), the rate limit
 * (token-bucket.ts), streaming a handler's outcome (handler-outcome.ts), the codecs
 * (frame-codec.ts), the built-ins' params (builtin-params.ts) and the reverse requests in flight
 * (pending-reverse.ts) live in their own files.
 */
import { ROOT_CONTEXT, SpanKind } from '@opentelemetry/api';
import type { Attributes, Span } from '@opentelemetry/api';
import type { FastifyRequest } from 'fastify';
import type { RawData, WebSocket } from 'ws';
import type { Identity } from '../../concept/index.js';
import { DeadlineSweep } from '../../helper/deadline-sweep.js';
import { FusionError } from '../../helper/errors.js';
import type { FusionLogger } from '../../helper/logging.js';
import { extractTraceContext, recordSpanError, traceCarrierOf, withSpan } from '../../helper/telemetry.js';
import type { TraceCarrier } from '../../helper/telemetry.js';
import { readChannelParams, readHelloParams } from './builtin-params.js';
import { CallState } from './call-state.js';
import type { ChannelSubscriber, JoinResult } from './channels.js';
import type { FusionRpcConfig } from './config.js';
import type { RpcCodecName, RpcConnectionInfo } from './define.js';
import { decodeValue, encodeValue } from './frame-codec.js';
import { FrameWriter } from './frame-writer.js';
import { isAsyncIterable, isThenable, settleOutcome } from './handler-outcome.js';
import type { RpcFrame, RpcHooks } from './hooks.js';
import type { RegisteredMethod } from './methods.js';
import { PendingReverseRequests, reverseAnswerOf } from './pending-reverse.js';
import { CLOSE_CODES, RPC_PROTOCOL, classifyFrame, idOf, protocolError, toRpcError } from './protocol.js';
import type { RpcErrorObject, RpcRequestFrame, RpcResponseFrame } from './protocol.js';
import { TokenBucket } from './token-bucket.js';

export type { RpcFrame, RpcHooks } from './hooks.js';

/** What a connection asks of the API that owns it. */
export interface RpcConnectionHost {
  readonly config: FusionRpcConfig;
  readonly logger: FusionLogger;
  readonly hooks: RpcHooks;
  /** The method `name` (built-in or registered), or undefined. */
  findMethod(name: string): RegisteredMethod | undefined;
  /** Authorizes `operation` for the connection's credentials (throws 401/403 FusionErrors). */
  authorize(connection: RpcConnection, operation: string, context?: Record<string, unknown>): Promise<Identity>;
  /** Joins a channel (after its authorization hook). */
  join(connection: RpcConnection, channel: string, since: number | null): Promise<JoinResult>;
  /** Leaves a channel. */
  leave(connection: RpcConnection, channel: string): Promise<boolean>;
  /** Usernames in a channel (the caller must be a member or allowed to join). */
  presence(connection: RpcConnection, channel: string): Promise<string[]>;
  /** The client answered (or failed) reverse request `rid` sent by instance `from`. */
  reverseAnswered(connection: RpcConnection, from: string, rid: string, answer: { result?: unknown; error?: RpcErrorObject }): void;
  /** `rpc.hello` set the connection's client type. */
  classified(connection: RpcConnection): void;
  /** The socket closed. */
  closed(connection: RpcConnection, code: number, reason: string): void;
}

/** One WebSocket peer (see the file comment). */
export class RpcConnection implements RpcConnectionInfo, ChannelSubscriber {
  readonly id: string;
  readonly connectionId: string;
  readonly identity: Identity;
  readonly remoteAddress: string;
  /** The upgrade request (its credential headers authorize calls). */
  readonly request: FastifyRequest;
  clientType: string | null = null;
  codec: RpcCodecName = 'json';
  /** Channels joined on this connection. */
  readonly channels = new Set<string>();
  /** False once a ping went unanswered (the heartbeat closes it at the next one). */
  alive = true;
  readonly #socket: WebSocket;
  readonly #host: RpcConnectionHost;
  readonly #inFlight = new Map<number | string | symbol, CallState>();
  readonly #deadlines = new DeadlineSweep<CallState>();
  readonly #reverse = new PendingReverseRequests();
  readonly #writer: FrameWriter;
  readonly #bucket: TokenBucket;
  #helloed = false;
  #closing = false;
  #drained: (() => void) | null = null;
  #ready: Promise<unknown> | null = null;

  constructor(options: { id: string; socket: WebSocket; request: FastifyRequest; identity: Identity; host: RpcConnectionHost }) {
    this.id = options.id;
    this.connectionId = options.id;
    this.#socket = options.socket;
    this.request = options.request;
    this.identity = options.identity;
    this.remoteAddress = options.request.ip;
    this.#host = options.host;
    this.#writer = new FrameWriter(options.socket, options.host, this, (code, reason) => this.close(code, reason));
    const host = options.host;
    this.#bucket = new TokenBucket(() => host.config.rate);
    const socket = options.socket;
    socket.on('message', (data, isBinary) => this.#onMessage(data, isBinary));
    socket.on('pong', () => {
      this.alive = true;
    });
    socket.on('close', (code, reason) => this.#onClose(code, reason.toString()));
  }

  /** Frames wait for `ready` (the connection's registry row): a client that got its hello answer is reachable everywhere. */
  waitFor(ready: Promise<unknown>): void {
    this.#ready = ready;
    // Once registered, frames skip the await (one microtask less per frame).
    void ready.then(() => {
      if (this.#ready === ready) this.#ready = null;
    });
  }

  /** Calls running now. */
  get inFlightCount(): number {
    return this.#inFlight.size;
  }

  /** Sends a ping; closes the peer if the previous one got no pong. */
  heartbeat(): void {
    if (!this.alive) {
      this.#socket.terminate();
      return;
    }
    this.alive = false;
    this.#socket.ping();
  }

  /** Sends `rpc.message` (with the trace context of the broadcast, when it had one). */
  message(channel: string, id: number, data: unknown, trace: TraceCarrier | null = null): void {
    this.#notify('rpc.message', { channel, id, data: this.#encode(data) }, trace === null ? null : traceCarrierOf(trace));
  }

  /** Sends `rpc.reset`. */
  reset(channel: string, lastId: number): void {
    this.#notify('rpc.reset', { channel, last_id: lastId });
  }

  /** Sends `rpc.left`: the server took the connection out of `channel` (`forbidden`: it lost access). */
  left(channel: string, reason: string): void {
    this.#notify('rpc.left', { channel, reason });
  }

  /** Sends reverse request `rid` (from instance `from`) to the client, with the trace context of the caller when it had one. */
  reverseRequest(from: string, rid: string, method: string, params: unknown, trace: TraceCarrier | null = null): void {
    const id = this.#reverse.open(rid, from);
    if (!this.#send({ jsonrpc: '2.0', id, method, params: this.#encode(params), ...(trace === null ? null : traceCarrierOf(trace)) })) {
      this.#reverse.cancel(id);
      this.#host.reverseAnswered(this, from, rid, { error: { code: -32603, message: 'the request could not be sent', data: { code: 'FUSION_ERR_CONNECTION' } } });
    }
  }

  /**
   * Graceful close: waits up to `graceMs` for calls in flight, cancels the rest, closes with
   * `code` (1001 at shutdown).
   */
  async shutdown(code: number, reason: string, graceMs: number): Promise<void> {
    this.#closing = true;
    if (this.#inFlight.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => {
          this.#drained = resolve;
        }),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, graceMs);
        }),
      ]);
      clearTimeout(timer);
      for (const call of this.#inFlight.values()) call.abort(protocolError.cancelled('the server is shutting down'));
    }
    this.close(code, reason);
  }

  /** Closes the socket with `code`. */
  close(code: number, reason: string): void {
    this.#closing = true;
    if (this.#socket.readyState === this.#socket.OPEN || this.#socket.readyState === this.#socket.CONNECTING) this.#socket.close(code, reason.slice(0, 120));
  }

  #onMessage(data: RawData, isBinary: boolean): void {
    this.alive = true;
    if (isBinary) {
      this.#error(null, protocolError.invalid('binary frames are not supported: send JSON text frames'));
      return;
    }
    // A text frame arrives as one Buffer: decode it in place (Buffer.from would copy it first).
    const text = Buffer.isBuffer(data) ? data.toString('utf8') : Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data).toString('utf8');
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      this.#error(null, protocolError.parse((error as Error).message));
      return;
    }
    void this.#handle(value).catch((error: unknown) => {
      this.#host.logger.error({ err: error, connection: this.id }, 'rpc: handling a frame failed');
      this.#error(idOf(value), error);
    });
  }

  async #handle(value: unknown): Promise<void> {
    if (this.#ready !== null) await this.#ready;
    const hook = this.#host.hooks.afterReceive;
    if (hook !== undefined && typeof value === 'object' && value !== null && !Array.isArray(value)) {
      const replaced = await hook(this, value as RpcFrame);
      if (replaced === null) return;
      value = replaced;
    }
    let incoming;
    try {
      incoming = classifyFrame(value);
    } catch (error) {
      this.#error(idOf(value), error);
      return;
    }
    if (incoming.kind === 'response') {
      this.#onResponse(incoming.frame);
      return;
    }
    if (incoming.kind === 'notification') {
      this.#onNotification(incoming.frame);
      return;
    }
    await this.#onRequest(incoming.frame, incoming.id);
  }

  #onResponse(frame: RpcResponseFrame): void {
    const pending = this.#reverse.take(frame);
    if (pending === undefined) {
      this.#error(null, protocolError.invalid(`no request of the server has id ${JSON.stringify(frame.id)}`));
      return;
    }
    this.#host.reverseAnswered(this, pending.from, pending.rid, reverseAnswerOf(frame, (value) => this.#decode(value)));
  }

  #onNotification(frame: RpcRequestFrame): void {
    if (frame.method === 'rpc.cancel') {
      const id = (frame.params as { id?: unknown } | undefined)?.id;
      const call = typeof id === 'number' || typeof id === 'string' ? this.#inFlight.get(id) : undefined;
      call?.abort(protocolError.cancelled('rpc.cancel'));
      return;
    }
    // A notification to a method runs it and discards its answer (JSON-RPC); errors are only logged.
    void this.#onRequest(frame, undefined);
  }

  /** Runs a request; `id` undefined: a notification (no answer). */
  async #onRequest(frame: RpcRequestFrame, id: number | string | null | undefined): Promise<void> {
    const method = frame.method;
    if (!this.#helloed && this.#host.config.requireHello && method !== 'rpc.hello') {
      this.#error(id, protocolError.invalid('send rpc.hello first (rpc.require_hello is on)'));
      return;
    }
    if (!this.#bucket.take()) {
      this.#error(id, protocolError.rate(`rate limited: at most ${this.#host.config.rate} calls per second on one connection`));
      return;
    }
    if (this.#closing) {
      this.#error(id, protocolError.cancelled('the connection is closing'));
      return;
    }
    if (method === 'rpc.hello') {
      this.#hello(frame.params, id);
      return;
    }
    if (id !== undefined && id !== null && this.#inFlight.has(id)) {
      this.#error(id, protocolError.invalid(`id ${JSON.stringify(id)} is already in use by a running call`));
      return;
    }
    if (this.#inFlight.size >= this.#host.config.maxInFlight) {
      this.#error(id, protocolError.rate(`too many calls in flight: at most ${this.#host.config.maxInFlight} on one connection`));
      return;
    }
    const registered = this.#host.findMethod(method);
    if (registered === undefined) {
      this.#error(id, protocolError.unknownMethod(method));
      return;
    }
    const call = new CallState(registered.timeout ?? this.#host.config.callTimeout);
    const key = id ?? Symbol('notification');
    this.#inFlight.set(key, call);
    this.#deadlines.add(call);
    // The caller's trace when the frame carries one, else a root span: the socket's events would
    // otherwise inherit the long-finished upgrade request's trace.
    const carrier = traceCarrierOf(frame);
    const parent = carrier === null ? ROOT_CONTEXT : extractTraceContext(carrier, ROOT_CONTEXT);
    try {
      await withSpan('fusion.rpc.call', this.#callAttributes(method, id), (span) => this.#run(registered, frame, id, call, span), { kind: SpanKind.SERVER, parent });
    } finally {
      this.#deadlines.delete(call);
      this.#inFlight.delete(key);
      if (this.#inFlight.size === 0) this.#drained?.();
    }
  }

  #callAttributes(method: string, id: number | string | null | undefined): Attributes {
    return {
      'rpc.system': 'jsonrpc',
      'rpc.method': method,
      ...(id === undefined || id === null ? {} : { 'rpc.jsonrpc.request_id': String(id) }),
      'fusion.rpc.connection': this.id,
      'enduser.id': this.identity.username,
      ...(this.clientType === null ? {} : { 'fusion.rpc.client_type': this.clientType }),
    };
  }

  /** Runs a registered method and answers (errors answer with their frame; -32603 also marks `span` failed). */
  async #run(registered: RegisteredMethod, frame: RpcRequestFrame, id: number | string | null | undefined, call: CallState, span: Span): Promise<void> {
    const method = frame.method;
    try {
      if (registered.clientTypes !== undefined && (this.clientType === null || !registered.clientTypes.includes(this.clientType))) {
        throw new FusionError('FUSION_ERR_FORBIDDEN', `${method} is for client types ${registered.clientTypes.join(', ')} (declare yours with rpc.hello)`);
      }
      const params = registered.validate(this.#decode(frame.params ?? {}));
      const identity = registered.operation === undefined ? this.identity : await this.#host.authorize(this, registered.operation);
      const outcome = registered.handler({
        identity,
        connection: this,
        params: params as never,
        get signal() {
          return call.signal;
        },
      });
      // A plain value (most handlers) needs neither a race nor a stream.
      const result = isThenable(outcome) || isAsyncIterable(outcome) ? await this.#settle(outcome, id, call) : outcome;
      if (call.aborted) throw call.reason;
      if (id !== undefined) this.#send({ jsonrpc: '2.0', id, result: this.#encode(result) ?? null });
    } catch (error) {
      const reason = call.aborted ? call.reason : error;
      if (id !== undefined) this.#error(id, reason);
      const code = toRpcError(reason).code;
      span.setAttribute('rpc.jsonrpc.error_code', code);
      if (code === -32603) {
        recordSpanError(span, error);
        this.#host.logger.error({ err: error, method, connection: this.id }, 'rpc: a method failed');
      }
    }
  }

  /** Awaits a handler's outcome; an async iterable is streamed as `rpc.item` notifications, its return value answers. */
  #settle(outcome: unknown, id: number | string | null | undefined, call: CallState): Promise<unknown> {
    const isOpen = (): boolean => this.#socket.readyState === this.#socket.OPEN;
    return settleOutcome(outcome, call, isOpen, (value) => {
      if (id !== undefined) this.#notify('rpc.item', { id, value: this.#encode(value) ?? null });
    });
  }

  #hello(params: unknown, id: number | string | null | undefined): void {
    const hello = readHelloParams(params);
    if ('close' in hello) {
      this.close(CLOSE_CODES.badProtocol, hello.close);
      return;
    }
    if ('error' in hello) {
      this.#error(id, hello.error);
      return;
    }
    this.#helloed = true;
    this.clientType = hello.clientType ?? this.clientType;
    this.codec = hello.codec ?? this.codec;
    this.#host.classified(this);
    if (id !== undefined) {
      this.#send({ jsonrpc: '2.0', id, result: { connection: this.id, identity: this.identity.toJSON(), protocol: RPC_PROTOCOL, codec: this.codec, client_type: this.clientType } });
    }
  }

  /** Answers built-in channel requests (they count as calls but are not user methods). */
  async channelRequest(method: 'rpc.join' | 'rpc.leave' | 'rpc.presence', params: unknown): Promise<unknown> {
    const { channel, since } = readChannelParams(method, params);
    if (method === 'rpc.join') return this.#host.join(this, channel, since);
    if (method === 'rpc.leave') return { left: await this.#host.leave(this, channel) };
    return { members: await this.#host.presence(this, channel) };
  }

  #encode(value: unknown): unknown {
    return encodeValue(this.codec, value);
  }

  #decode(value: unknown): unknown {
    return decodeValue(this.codec, value);
  }

  #notify(method: string, params: Record<string, unknown>, trace: TraceCarrier | null = null): void {
    this.#send(trace === null ? { jsonrpc: '2.0', method, params } : { jsonrpc: '2.0', method, params, ...trace });
  }

  #error(id: number | string | null | undefined, error: unknown): void {
    if (id === undefined) return; // a notification is never answered
    this.#send({ jsonrpc: '2.0', id, error: toRpcError(error) });
  }

  /** Writes a frame; false when refused or when the socket is gone. Closes with 1013 when the peer does not read. */
  #send(frame: RpcFrame): boolean {
    return this.#writer.send(frame);
  }

  #onClose(code: number, reason: string): void {
    this.#closing = true;
    this.#deadlines.clear();
    for (const call of this.#inFlight.values()) call.abort(protocolError.cancelled('the connection closed'));
    for (const pending of this.#reverse.drain()) {
      this.#host.reverseAnswered(this, pending.from, pending.rid, { error: { code: -32010, message: 'the connection closed before answering', data: { code: 'FUSION_ERR_RPC_CANCELLED' } } });
    }
    this.#host.closed(this, code, reason);
  }
}
