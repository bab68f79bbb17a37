/**
 * The JSON-RPC 2.0 frames of `GET /api/rpc` (DESIGN.md section 10): error codes, the mapping
 * of FusionErrors onto them, and the shape checks of incoming frames.
 */
import { isFusionError } from '../../helper/errors.js';
import type { FusionErrorCode } from '../../helper/errors.js';

/** The protocol version `rpc.hello` negotiates. */
export const RPC_PROTOCOL = 1;

/** JSON-RPC error codes used on the wire. */
export const RPC_CODES = {
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internal: -32603,
  unauthorized: -32001,
  forbidden: -32003,
  notFound: -32004,
  timeout: -32008,
  conflict: -32009,
  cancelled: -32010,
  rateLimited: -32029,
} as const;

/** WebSocket close codes the server uses. */
export const CLOSE_CODES = {
  goingAway: 1001,
  tooBig: 1009,
  tryAgainLater: 1013,
  badProtocol: 4400,
} as const;

/** An error object of a response frame. */
export interface RpcErrorObject {
  code: number;
  message: string;
  data?: { code: string; [key: string]: unknown };
}

/** A request (with id) or notification (without) as received. */
export interface RpcRequestFrame {
  jsonrpc: '2.0';
  id?: number | string | null;
  method: string;
  params?: unknown;
}

/** A response frame (to a reverse request, when received). */
export interface RpcResponseFrame {
  jsonrpc: '2.0';
  id: number | string | null;
  result?: unknown;
  error?: RpcErrorObject;
}

/** Thrown by method handlers to answer with a given JSON-RPC code. */
export class RpcError extends Error {
  /** The JSON-RPC code. */
  readonly rpcCode: number;
  /** The FUSION_ERR_* code carried in `error.data.code`. */
  readonly code: FusionErrorCode;

  constructor(rpcCode: number, code: FusionErrorCode, message: string) {
    super(message);
    this.name = 'RpcError';
    this.rpcCode = rpcCode;
    this.code = code;
  }
}

/**
 * The JSON-RPC code of an HTTP status (and FUSION_ERR_* code). Every 4xx is a client error:
 * 401, 403, 404/410, 408, 409 and 429 have their own code, any other (400, 405, 413, 414, 415,
 * 416, 422, 431...) is -32602 "the call as made is refused". Only 5xx (and non-error statuses)
 * are -32603 internal.
 */
function rpcCodeOfStatus(status: number, code: string): number {
  if (code === 'FUSION_ERR_RPC_CANCELLED') return RPC_CODES.cancelled;
  if (code === 'FUSION_ERR_RPC_METHOD_NOT_FOUND') return RPC_CODES.methodNotFound;
  if (code === 'FUSION_ERR_RPC_INVALID_REQUEST') return RPC_CODES.invalidRequest;
  if (code === 'FUSION_ERR_RPC_PARSE') return RPC_CODES.parseError;
  if (code === 'FUSION_ERR_TIMEOUT' || status === 504 || status === 408) return RPC_CODES.timeout;
  if (status === 401) return RPC_CODES.unauthorized;
  if (status === 403) return RPC_CODES.forbidden;
  if (status === 404 || status === 410) return RPC_CODES.notFound;
  if (status === 409) return RPC_CODES.conflict;
  if (status === 429) return RPC_CODES.rateLimited;
  if (status >= 400 && status <= 499) return RPC_CODES.invalidParams;
  return RPC_CODES.internal;
}

/** The error object for what a handler threw: FusionErrors keep their message and code, anything else says nothing. */
export function toRpcError(error: unknown): RpcErrorObject {
  if (error instanceof RpcError) return { code: error.rpcCode, message: error.message, data: { code: error.code } };
  if (isFusionError(error)) {
    const code = rpcCodeOfStatus(error.status, error.code);
    return { code, message: code === RPC_CODES.internal && error.code === 'FUSION_ERR_INTERNAL' ? 'internal error' : error.message, data: { code: error.code } };
  }
  return { code: RPC_CODES.internal, message: 'internal error', data: { code: 'FUSION_ERR_INTERNAL' } };
}

/** The error object of an HTTP error envelope (built-in methods answered by their HTTP twin). */
export function envelopeToRpcError(status: number, code: string | undefined, message: string | undefined): RpcErrorObject {
  const known = code ?? 'FUSION_ERR_INTERNAL';
  const rpc = rpcCodeOfStatus(status, known);
  return { code: rpc, message: rpc === RPC_CODES.internal ? 'internal error' : (message ?? 'error'), data: { code: known } };
}

/** Errors of the protocol itself. */
export const protocolError = {
  parse: (detail: string): RpcError => new RpcError(RPC_CODES.parseError, 'FUSION_ERR_RPC_PARSE', `parse error: ${detail}`),
  invalid: (detail: string): RpcError => new RpcError(RPC_CODES.invalidRequest, 'FUSION_ERR_RPC_INVALID_REQUEST', `invalid request: ${detail}`),
  unknownMethod: (method: string): RpcError => new RpcError(RPC_CODES.methodNotFound, 'FUSION_ERR_RPC_METHOD_NOT_FOUND', `unknown method ${JSON.stringify(method.slice(0, 100))}`),
  params: (detail: string): RpcError => new RpcError(RPC_CODES.invalidParams, 'FUSION_ERR_VALIDATION', `invalid params: ${detail}`),
  rate: (detail: string): RpcError => new RpcError(RPC_CODES.rateLimited, 'FUSION_ERR_RATE_LIMITED', detail),
  timeout: (seconds: number): RpcError => new RpcError(RPC_CODES.timeout, 'FUSION_ERR_TIMEOUT', `the call did not finish within ${seconds} s`),
  cancelled: (why: string): RpcError => new RpcError(RPC_CODES.cancelled, 'FUSION_ERR_RPC_CANCELLED', `cancelled: ${why}`),
};

function isId(value: unknown): value is number | string | null {
  return value === null || typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
}

/** What an incoming frame is, once its shape is checked. */
export type IncomingFrame =
  | { kind: 'request'; frame: RpcRequestFrame; id: number | string | null }
  | { kind: 'notification'; frame: RpcRequestFrame }
  | { kind: 'response'; frame: RpcResponseFrame };

/** Classifies a parsed frame; throws an RpcError (-32600) naming what is wrong, with the id when one can be read. */
export function classifyFrame(value: unknown): IncomingFrame {
  if (Array.isArray(value)) throw protocolError.invalid('batches are not supported: send one object per frame');
  if (typeof value !== 'object' || value === null) throw protocolError.invalid(`expected a JSON object, got ${value === null ? 'null' : typeof value}`);
  const frame = value as Record<string, unknown>;
  if (frame.jsonrpc !== '2.0') throw protocolError.invalid('"jsonrpc" must be "2.0"');
  if ('method' in frame) {
    if (typeof frame.method !== 'string' || frame.method === '') throw protocolError.invalid('"method" must be a non-empty string');
    if ('params' in frame && (typeof frame.params !== 'object' || frame.params === null)) throw protocolError.invalid('"params" must be an object or an array');
    if (!('id' in frame)) return { kind: 'notification', frame: frame as unknown as RpcRequestFrame };
    if (!isId(frame.id)) throw protocolError.invalid('"id" must be a number, a string or null');
    return { kind: 'request', frame: frame as unknown as RpcRequestFrame, id: frame.id };
  }
  if ('result' in frame || 'error' in frame) {
    if (!isId(frame.id)) throw protocolError.invalid('"id" must be a number, a string or null');
    return { kind: 'response', frame: frame as unknown as RpcResponseFrame };
  }
  throw protocolError.invalid('a frame needs "method" (a request) or "result"/"error" (a response)');
}

/** The id of a frame that failed its checks, when it has a readable one (else null). */
export function idOf(value: unknown): number | string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const id = (value as { id?: unknown }).id;
  return isId(id) ? id : null;
}
