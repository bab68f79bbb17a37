/** Errors the client throws: the server's error envelope, or a transport problem, as one class. */

/** A failed call: non-2xx answer, non-envelope body, connection failure or timeout. Match on `code`. */
export class FusionClientError extends Error {
  /** HTTP status of the answer (0 when no answer arrived). */
  readonly status: number;
  /** Stable code: the server's `code` (FUSION_ERR_*), or FUSION_ERR_CONNECTION / FUSION_ERR_TIMEOUT / FUSION_ERR_BAD_RESPONSE. */
  readonly code: string;
  /** The server's request id (quote it when reporting a 5xx), null when unknown. */
  readonly requestId: string | null;
  /** HTTP method and path of the failed call, e.g. `GET /api/info`. */
  readonly endpoint: string;
  /** On a 429: seconds the server asks to wait (its `retry_after`), null when it says none. */
  readonly retryAfter: number | null;

  constructor(
    details: { status: number; code: string; message: string; requestId?: string | null; endpoint: string; retryAfter?: number | null },
    options?: { cause?: unknown },
  ) {
    super(details.message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FusionClientError';
    this.status = details.status;
    this.code = details.code;
    this.requestId = details.requestId ?? null;
    this.endpoint = details.endpoint;
    this.retryAfter = details.retryAfter ?? null;
  }
}

/** True when `value` is a FusionClientError, even one from another copy of the package. */
export function isFusionClientError(value: unknown): value is FusionClientError {
  return value instanceof FusionClientError || (value instanceof Error && value.name === 'FusionClientError' && 'endpoint' in value);
}
