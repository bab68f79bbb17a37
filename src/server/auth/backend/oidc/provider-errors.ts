/** Sorting the failures of calls to the identity provider into "refused", "unreachable" and "invalid answer". */
import { errors as joseErrors } from 'jose';
import { ClientError, ResponseBodyError } from 'openid-client';

/** What went wrong in a call to the identity provider. */
export type ProviderFailure =
  /** The provider answered with an OAuth error (`invalid_grant`, `invalid_client`, ...). */
  | { kind: 'refused'; error: string; description: string | null }
  /** No usable answer: network, TLS, timeout, a 5xx or a non-JSON page. */
  | { kind: 'unreachable'; reason: string }
  /** An answer that failed validation (ID token claims, issuer mismatch, ...). */
  | { kind: 'invalid'; reason: string };

/** OAuth errors that mean "try again later" rather than "no". */
const TRANSIENT = new Set(['server_error', 'temporarily_unavailable']);

/** Classifies an error thrown by openid-client or jose; `timeout` (seconds) is used in messages. */
export function classifyProviderError(error: unknown, timeout: number): ProviderFailure {
  if (error instanceof ResponseBodyError) {
    if (TRANSIENT.has(error.error) || error.status >= 500) return { kind: 'unreachable', reason: `the provider answered ${error.status} ${error.error}` };
    return { kind: 'refused', error: clip(error.error), description: error.error_description ? clip(error.error_description) : null };
  }
  if (isTimeout(error) || error instanceof joseErrors.JWKSTimeout) return { kind: 'unreachable', reason: `no answer within ${timeout} s` };
  if (error instanceof ClientError) {
    if (error.code === 'OAUTH_RESPONSE_IS_NOT_CONFORM' || error.code === 'OAUTH_RESPONSE_IS_NOT_JSON') {
      const status = (error.cause as { status?: unknown } | undefined)?.status;
      return { kind: 'unreachable', reason: typeof status === 'number' ? `unexpected HTTP status ${status}` : error.message };
    }
    return { kind: 'invalid', reason: clip(error.message) };
  }
  if (error instanceof TypeError && error.message === 'fetch failed') {
    const cause = error.cause as { code?: unknown; message?: unknown } | undefined;
    const detail = typeof cause?.message === 'string' && cause.message !== '' ? cause.message : typeof cause?.code === 'string' ? cause.code : 'network error';
    return { kind: 'unreachable', reason: clip(detail) };
  }
  if (error instanceof Error && /^(AbortError|ConnectTimeoutError|SocketError)$/.test(error.name)) return { kind: 'unreachable', reason: clip(error.message) };
  if (error instanceof joseErrors.JOSEError) return { kind: 'unreachable', reason: clip(error.message) };
  return { kind: 'unreachable', reason: error instanceof Error ? clip(error.message) : 'unknown error' };
}

/** `refused`'s error and description as one phrase: `invalid_grant: Token is not active`. */
export function describeRefusal(failure: { error: string; description: string | null }): string {
  return failure.description === null ? failure.error : `${failure.error}: ${failure.description}`;
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || (error.name === 'AbortError' && /timeout/i.test(error.message)));
}

/** Keeps provider-supplied text short and on one line in messages and logs. */
export function clip(text: string, max = 200): string {
  const line = text.replace(/[\r\n\t]+/g, ' ');
  return line.length > max ? `${line.slice(0, max - 3)}...` : line;
}
