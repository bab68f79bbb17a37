/**
 * Exit codes of `fusion`, by error class (docs/cli.md lists them): a script can tell a typo from
 * a refused login, a missing case, a conflict, a broken server and an unreachable one.
 */
import { isFusionClientError } from '../client/errors.js';
import { EXIT_USAGE } from './command.js';

/** Exit codes of `fusion`, by error class. */
export const EXIT_CODES = Object.freeze({
  /** Success. */
  ok: 0,
  /** An unexpected failure (a bug, a local file that cannot be written). */
  failure: 1,
  /** Bad arguments, unknown command or option, missing URL, configuration error. */
  usage: EXIT_USAGE,
  /** 401 or 403 (or JSON-RPC -32001, -32003): not logged in, bad API key, refused login, no access. */
  auth: 3,
  /** 404 (or JSON-RPC -32004, -32601): no such case, file, analysis, download, route or RPC method. */
  notFound: 4,
  /** 409 (or JSON-RPC -32009): the case is closed or exists already, the file exists, the analysis is queued. */
  conflict: 5,
  /** 5xx, or an answer that is not a Fusion envelope. */
  server: 6,
  /** No answer: connection refused, DNS, TLS, timeout. */
  unreachable: 7,
  /** Another 4xx: the server refused the request as invalid (400, 413, 415, 416, 429). */
  refused: 8,
});

/** One line for `fusion --help`: each exit code and its class. */
export function exitCodesSummary(): string {
  const labels = Object.entries(EXIT_CODES).map(([name, code]) => `${code} ${name.replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`)}`);
  return `Exit codes: ${labels.join(', ')} (docs/cli.md).`;
}

/** A mistake in how `fusion` was called (exit code 2). */
export class CliUsageError extends Error {
  override readonly name = 'CliUsageError';
}

/** A JSON-RPC error answer (FusionRpcError, recognized by shape: this file does not load the RPC client). */
interface RpcErrorLike {
  rpcCode: number;
  code: string;
  message: string;
}

function isRpcError(error: unknown): error is RpcErrorLike {
  return error instanceof Error && error.name === 'FusionRpcError' && typeof (error as Partial<RpcErrorLike>).rpcCode === 'number';
}

/** JSON-RPC error codes (server/rpc/protocol.ts) by exit class; any other is `server`. */
const RPC_EXIT_CODES: Readonly<Record<number, number>> = {
  [-32001]: EXIT_CODES.auth,
  [-32003]: EXIT_CODES.auth,
  [-32004]: EXIT_CODES.notFound,
  [-32601]: EXIT_CODES.notFound,
  [-32009]: EXIT_CODES.conflict,
  [-32600]: EXIT_CODES.refused,
  [-32602]: EXIT_CODES.refused,
  [-32700]: EXIT_CODES.refused,
  [-32029]: EXIT_CODES.refused,
  [-32010]: EXIT_CODES.failure,
};

/** The exit code for an error thrown by a command. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof CliUsageError) return EXIT_CODES.usage;
  if (isFusionClientError(error)) {
    if (error.code === 'FUSION_ERR_BAD_RESPONSE') return EXIT_CODES.server;
    if (error.status === 0) return EXIT_CODES.unreachable;
    if (error.status === 401 || error.status === 403) return EXIT_CODES.auth;
    if (error.status === 404) return EXIT_CODES.notFound;
    if (error.status === 409) return EXIT_CODES.conflict;
    if (error.status >= 500) return EXIT_CODES.server;
    return EXIT_CODES.refused;
  }
  if (isRpcError(error)) return RPC_EXIT_CODES[error.rpcCode] ?? EXIT_CODES.server;
  // The clients check their arguments and options with TypeErrors that name the class.
  if (error instanceof TypeError && /^Fusion\w*(\.\w+)?:/.test(error.message)) return EXIT_CODES.usage;
  return EXIT_CODES.failure;
}

/** The one-line message `fusion` prints for an error (with the server's code and request id when known). */
export function describeError(error: unknown): string {
  if (isFusionClientError(error)) {
    const id = error.requestId === null ? '' : `, request id ${error.requestId}`;
    return `${error.message} (${error.code}${id})`;
  }
  if (isRpcError(error)) return `${error.message} (${error.code}, JSON-RPC ${error.rpcCode})`;
  return error instanceof Error ? error.message : String(error);
}
