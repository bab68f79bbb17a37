/**
 * The RPC types both sides share: what a method handler receives (`RpcCall`, `RpcConnectionInfo`)
 * and the params, result and item types of a method of a `defineRpc` table, so the client
 * (`FusionRpcClient<typeof methods>`) is typed without importing server code.
 */
import type { Identity } from './identity.js';

/** What a method handler receives. */
export interface RpcCall<P = unknown> {
  /** The caller. */
  readonly identity: Identity;
  /** The caller's connection. */
  readonly connection: RpcConnectionInfo;
  /** Fires on `rpc.cancel`, on the call timeout, when the connection closes and at shutdown. */
  readonly signal: AbortSignal;
  /** The validated params. */
  readonly params: P;
}

/** What methods and hooks know of a connection. */
export interface RpcConnectionInfo {
  readonly id: string;
  readonly identity: Identity;
  /** From `rpc.hello` (null before it). */
  readonly clientType: string | null;
  /** `json` or `superjson`. */
  readonly codec: RpcCodecName;
  readonly remoteAddress: string;
}

/** Codecs of params and results. */
export type RpcCodecName = 'json' | 'superjson';

/** The params type of method `K` of `D`. */
export type RpcParamsOf<D, K extends keyof D> = D[K] extends { handler: (call: RpcCall<infer P>) => unknown } ? P : unknown;

/** The raw return type of method `K` of `D`. */
type RpcReturnOf<D, K extends keyof D> = D[K] extends { handler: (call: never) => infer R } ? R : unknown;

/** The final result of method `K` (a generator's return value for a stream). */
export type RpcResultOf<D, K extends keyof D> =
  RpcReturnOf<D, K> extends AsyncGenerator<unknown, infer F, unknown> ? F : Awaited<RpcReturnOf<D, K>>;

/** The items a streaming method `K` yields (never for a plain method). */
export type RpcItemOf<D, K extends keyof D> = RpcReturnOf<D, K> extends AsyncGenerator<infer Y, unknown, unknown> ? Y : never;
