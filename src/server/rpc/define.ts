/**
 * One declaration of a service's methods, typed everywhere: `defineRpc({...})` on the server
 * (handlers with their params types), `export type MyRpc = typeof methods`, and
 * `new FusionRpcClient<MyRpc>(...)` on the client (`import type`: no server code is loaded)
 * checks method names, params and results at compile time.
 */
import type { RpcCall } from '../../concept/rpc-types.js';
import type { JsonSchema } from '../envelope.js';

export type { RpcCall, RpcCodecName, RpcConnectionInfo, RpcItemOf, RpcParamsOf, RpcResultOf } from '../../concept/rpc-types.js';

/** A class with fromJSON (a Concept class): params are decoded with it, its errors name the field. */
export interface RpcParamsClass<P = unknown> {
  fromJSON(data: unknown, options?: { unknownKeys?: 'reject' | 'ignore' | 'keep' }): P;
}

/** How a method is declared (besides its handler). */
export interface RpcMethodOptions {
  /** Params schema: a JSON Schema (ajv, no coercion) or a Concept class; invalid params get -32602 naming the field. */
  input?: JsonSchema | RpcParamsClass;
  /** Result schema (documentation only). */
  output?: JsonSchema;
  /** Only connections whose `rpc.hello` declared one of these client types may call it. */
  clientTypes?: readonly string[];
  /** Operation name passed to the auth API's authorizer for each call (like a route's). */
  operation?: string;
  /** Seconds the call may run before -32008 (default `rpc.call_timeout`). */
  timeout?: number;
}

/** A method handler: a value (or promise) answers once; an async generator streams items then answers with its return value. */
export type RpcHandler<P = unknown, R = unknown> = (call: RpcCall<P>) => R | Promise<R>;

/** A method as `defineRpc` lists it. */
export interface RpcMethodDefinition<P = never, R = unknown> extends RpcMethodOptions {
  handler: RpcHandler<P, R>;
}

/** A map of method names to definitions. */
export type RpcDefinitions = Record<string, RpcMethodDefinition<never, unknown>>;

/** Declares methods once (an identity function that keeps their types for `typeof`). */
export function defineRpc<const D extends RpcDefinitions>(definitions: D): D {
  return definitions;
}
