/**
 * Secrets that travel in URLs never reach the log: the one-time token of a download link
 * (`/api/download/<guid>/<token>`) is replaced by `[redacted]` in the `req` of every request log
 * line. APIs adding such URLs append their pattern to URL_SECRETS.
 */
import type { FastifyRequest } from 'fastify';

/**
 * Patterns of URL parts that are secrets; group 1 is kept, the rest of the match is redacted.
 * Global and case-blind, and the separators loose (doubled slashes, `%2F`, a backslash): a
 * mistyped download URL answered 404 still carries a valid token.
 */
export const URL_SECRETS: RegExp[] = [/(\/+api\/+download\/+(?:[^/?#%\\]*(?:\/+|%(?:25)*2f|\\))?)[^?#]*/gi];

/** `url` with every secret part replaced by `[redacted]`. */
export function redactUrl(url: string): string {
  let out = url;
  for (const pattern of URL_SECRETS) out = out.replace(pattern, (_match, kept: string) => `${kept}[redacted]`);
  return out;
}

/** The `req` serializer of request log lines (fastify's fields, the URL redacted). */
export function redactedRequest(request: FastifyRequest): Record<string, unknown> {
  return {
    method: request.method,
    url: redactUrl(request.url),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}
