/**
 * Reverse requests: the server calls a method on a user's clients, wherever connected. The
 * asking side delivers through the connection registry and waits for the answers routed back
 * (`rpc.reply`); the receiving side hands a delivery to its connection.
 */
import { randomUUID } from 'node:crypto';
import { SpanKind } from '@opentelemetry/api';
import { FUSION_ERRORS } from '../../helper/errors.js';
import type { FusionErrorCode } from '../../helper/errors.js';
import { currentTraceCarrier, traceCarrierOf, withSpan } from '../../helper/telemetry.js';
import type { ConnectionRegistry, ConnectionSelector } from '../connection/registry.js';
import type { RpcConnection } from './connection.js';
import { RpcError, protocolError } from './protocol.js';
import type { RpcErrorObject } from './protocol.js';

/** Options of reverseRequest. */
export interface ReverseRequestOptions {
  /** Seconds to wait for the answer(s) (default rpc.call_timeout). */
  timeout?: number;
  /** `first` (default): one connection of the user (this instance's first); `all`: every connection, every answer. */
  target?: 'first' | 'all';
}

/** One connection's answer to a reverse request sent with `target: 'all'`. */
export interface ReverseAnswer {
  connection: string;
  result?: unknown;
  error?: RpcErrorObject;
}

/** What reverseRequest resolves with when nobody could be asked. */
export interface ReverseOffline {
  delivered: false;
  reason: 'offline';
}

interface ReverseWaiter {
  expected: number;
  answers: ReverseAnswer[];
  done(): void;
}

/** The reverse requests this instance asked and waits on. */
export class ReverseRequests {
  readonly #waiters = new Map<string, ReverseWaiter>();
  readonly #registry: () => ConnectionRegistry;

  /** `registry` returns the started registry (or throws when the API is not started). */
  constructor(registry: () => ConnectionRegistry) {
    this.#registry = registry;
  }

  /** Calls `method` on the client(s) of `username` (see FusionRpcAPI.reverseRequest), in a `fusion.rpc.reverse_request` span. */
  async request(username: string, method: string, params: unknown, options: ReverseRequestOptions, defaultTimeout: () => number): Promise<unknown> {
    const target = options.target ?? 'first';
    if (target !== 'first' && target !== 'all') throw new TypeError(`reverseRequest: target must be 'first' or 'all', got ${JSON.stringify(target)}`);
    const attributes = { 'rpc.system': 'jsonrpc', 'rpc.method': method, 'enduser.id': username, 'fusion.rpc.target': target };
    return withSpan(
      'fusion.rpc.reverse_request',
      attributes,
      async (span) => {
        const result = await this.#request(username, method, params, target, options.timeout ?? defaultTimeout());
        const offline = typeof result === 'object' && result !== null && (result as Partial<ReverseOffline>).delivered === false;
        span.setAttribute('fusion.rpc.outcome', offline ? 'offline' : 'answered');
        return result;
      },
      { kind: SpanKind.CLIENT },
    );
  }

  /** An answer routed back by `rpc.reply` (ignored when its request timed out meanwhile). */
  onReply(payload: unknown): void {
    const answer = payload as ReverseAnswer & { rid: string };
    const waiter = this.#waiters.get(answer.rid);
    if (waiter === undefined) return; // timed out meanwhile
    const { rid: _rid, ...rest } = answer;
    waiter.answers.push(rest);
    if (waiter.answers.length >= waiter.expected) waiter.done();
  }

  /** Stops waiting: every pending request resolves with the answers it has. */
  close(): void {
    for (const waiter of this.#waiters.values()) waiter.done();
  }

  async #request(username: string, method: string, params: unknown, target: 'first' | 'all', seconds: number): Promise<unknown> {
    const registry = this.#registry();
    const deadline = Date.now() + seconds * 1000;
    const offline: ReverseOffline = { delivered: false, reason: 'offline' };
    if (target === 'all') {
      const { routed, answers } = await this.#ask(registry, { username, kind: 'rpc' }, method, params, deadline, false);
      if (routed.length === 0) return offline;
      const missing = routed.filter((id) => !answers.some((a) => a.connection === id));
      return [
        ...answers,
        ...missing.map((connection) => ({ connection, error: { code: -32008, message: `no answer within ${seconds} s`, data: { code: 'FUSION_ERR_TIMEOUT' } } })),
      ];
    }
    const tried = new Set<string>();
    let refusal: RpcErrorObject | null = null;
    for (let attempt = 0; ; attempt++) {
      let to: string | ConnectionSelector = { username, kind: 'rpc' };
      if (attempt > 0) {
        // The user's other connections, this instance's first (no storage round trip to reach them).
        const next = (await registry.list({ username, kind: 'rpc' }))
          .filter((record) => !tried.has(record.id))
          .sort((x, y) => Number(registry.isLocal(y.id)) - Number(registry.isLocal(x.id)))[0];
        if (next === undefined) break;
        to = next.id;
      }
      const { routed, answers } = await this.#ask(registry, to, method, params, deadline, true);
      if (routed.length === 0) {
        if (typeof to !== 'string') break; // nobody at all
        tried.add(to); // gone between the listing and the delivery: the next one
        continue;
      }
      for (const id of routed) tried.add(id);
      const answer = answers[0];
      if (answer === undefined) throw protocolError.timeout(seconds);
      if (answer.error === undefined) return answer.result;
      if (!isNextConnectionWorthTrying(answer.error)) throw reverseError(answer.error);
      if (answer.error.code === -32601) refusal = answer.error;
      if (Date.now() >= deadline) throw protocolError.timeout(seconds);
    }
    // Nobody left to ask: gone everywhere is offline; connections that do not handle the method say so.
    if (refusal !== null) throw reverseError(refusal);
    return offline;
  }

  /** Delivers one reverse request and waits until every connection it reached answered or `deadline` passed. */
  async #ask(
    registry: ConnectionRegistry,
    to: string | ConnectionSelector,
    method: string,
    params: unknown,
    deadline: number,
    first: boolean,
  ): Promise<{ routed: string[]; answers: ReverseAnswer[] }> {
    const rid = randomUUID();
    const answers: ReverseAnswer[] = [];
    let done!: () => void;
    const finished = new Promise<void>((resolve) => {
      done = resolve;
    });
    this.#waiters.set(rid, { expected: Number.POSITIVE_INFINITY, answers, done });
    let timer: NodeJS.Timeout | undefined;
    try {
      // The reverse_request span's context travels with the delivery (maybe to another instance) into the frame.
      const trace = currentTraceCarrier();
      const routed = await registry.deliver(to, { rid, from: registry.instanceId, method, params, ...(trace === null ? {} : { trace }) }, { first });
      if (routed.length === 0) return { routed, answers };
      this.#waiters.get(rid)!.expected = routed.length;
      if (answers.length >= routed.length) done();
      await Promise.race([
        finished,
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
        }),
      ]);
      return { routed, answers: [...answers] };
    } finally {
      clearTimeout(timer);
      this.#waiters.delete(rid);
    }
  }
}

/** Hands a reverse request delivered to `connectionId` to its connection; one closed meanwhile answers "the connection closed". */
export function deliverReverseRequest(connection: RpcConnection | undefined, registry: ConnectionRegistry | null, connectionId: string, payload: unknown): void {
  const { rid, from, method, params, trace } = payload as { rid: string; from: string; method: string; params: unknown; trace?: unknown };
  if (connection === undefined) {
    void registry?.sendToInstance(from, 'rpc.reply', { rid, connection: connectionId, error: { code: -32010, message: 'the connection closed', data: { code: 'FUSION_ERR_RPC_CANCELLED' } } }).catch(() => undefined);
    return;
  }
  connection.reverseRequest(from, rid, method, params, typeof trace === 'object' && trace !== null ? traceCarrierOf(trace) : null);
}

/** True when a `first` reverse request should go on to the user's next connection: this one is gone or does not handle the method. */
function isNextConnectionWorthTrying(error: RpcErrorObject): boolean {
  const code = error.data?.code;
  return error.code === -32601 || code === 'FUSION_ERR_RPC_CANCELLED' || code === 'FUSION_ERR_CONNECTION';
}

/** The RpcError a client's error answer rejects a reverse request with. */
function reverseError(error: RpcErrorObject): RpcError {
  const code = error.data?.code;
  return new RpcError(error.code, typeof code === 'string' && code in FUSION_ERRORS ? (code as FusionErrorCode) : 'FUSION_ERR_BAD_RESPONSE', error.message);
}
