/**
 * The one table of error codes. Every error the framework raises on purpose carries one of
 * these codes; the server puts it in the envelope (`{status, message, code}`) and the client
 * exposes it as `err.code`. Codes are never reused or renamed: retire one by leaving it here.
 */
export const FUSION_ERRORS = {
  FUSION_ERR_INTERNAL: { status: 500, hint: 'Retry later; if it persists, read the server log for this request id.' },
  FUSION_ERR_BAD_REQUEST: { status: 400, hint: 'Fix the request as the message says and send it again.' },
  FUSION_ERR_BAD_JSON: { status: 400, hint: 'Send a valid JSON body with Content-Type: application/json.' },
  FUSION_ERR_VALIDATION: { status: 400, hint: 'Fix the field named in the message and send it again.' },
  FUSION_ERR_BAD_GUID: { status: 400, hint: 'Use a lowercase UUID such as 0f6c2d9a-3b1e-4f5a-9c8d-7e6f5a4b3c2d.' },
  FUSION_ERR_BODY_TOO_LARGE: { status: 413, hint: 'Send a smaller body or raise server.client_max_size.' },
  FUSION_ERR_NOT_FOUND: { status: 404, hint: 'Check the URL against GET /api/openapi.json.' },
  FUSION_ERR_METHOD_NOT_ALLOWED: { status: 405, hint: 'Use a method the route supports.' },
  FUSION_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, hint: 'Send Content-Type: application/json.' },
  FUSION_ERR_CONCEPT_INVALID: { status: 400, hint: 'Fix the field named in the message.' },
  FUSION_ERR_CONCEPT_READONLY: { status: 400, hint: 'Leave this field out of the update: it is set once at creation.' },
  FUSION_ERR_CONFIG: { status: 500, hint: 'Fix the configuration key named in the message and restart.' },
  FUSION_ERR_UNAUTHORIZED: { status: 401, hint: 'Log in with POST /api/auth/login or send X-Fusion-API-Token.' },
  FUSION_ERR_FORBIDDEN: { status: 403, hint: 'Ask an administrator for access to this resource.' },
  FUSION_ERR_LOGIN_FAILED: { status: 401, hint: 'Check the username and password.' },
  FUSION_ERR_RATE_LIMITED: { status: 429, hint: 'Wait before trying again.' },
  FUSION_ERR_CASE_NOT_FOUND: { status: 404, hint: 'List cases with GET /api/cases to find a valid guid.' },
  FUSION_ERR_CASE_CLOSED: { status: 409, hint: 'A closed case cannot change; create a new case instead.' },
  FUSION_ERR_CASE_EXISTS: { status: 409, hint: 'A case with this guid exists already; omit guid to get a new one.' },
  FUSION_ERR_CASE_MANAGED: { status: 409, hint: 'This case is attached to a managing case already; it cannot be attached again.' },
  FUSION_ERR_CONSTANT_UNAVAILABLE: { status: 503, hint: 'Create the file named by constant.path.' },
  FUSION_ERR_DOWNLOAD_NOT_FOUND: { status: 404, hint: 'Download links work once and expire quickly: prepare a new one.' },
  FUSION_ERR_DOWNLOAD_LIMIT: { status: 503, hint: 'Too many pending downloads: retry in a few seconds.' },
  FUSION_ERR_RANGE_NOT_SATISFIABLE: { status: 416, hint: 'Ask for a byte range inside the file (see Content-Range: bytes */size).' },
  FUSION_ERR_STORAGE: { status: 500, hint: 'Check that the storage URL is reachable.' },
  FUSION_ERR_LOCK_TIMEOUT: { status: 503, hint: 'Another process holds the lock: retry later or remove a stale lock.' },
  FUSION_ERR_LOCK_COMPROMISED: { status: 503, hint: 'The lock was lost while held (event loop blocked longer than its stale time?): check the result and retry.' },
  FUSION_ERR_ZIP_REFUSED: { status: 400, hint: 'The archive is unsafe or too large; inspect it before extracting.' },
  FUSION_ERR_SUBPROCESS: { status: 500, hint: 'Read the command output in the log.' },
  FUSION_ERR_TIMEOUT: { status: 504, hint: 'Retry later or raise the timeout.' },
  FUSION_ERR_FILE_FORMAT: { status: 500, hint: 'Name the file with a .json, .yaml or .yml extension.' },
  FUSION_ERR_FILE_PARSE: { status: 500, hint: 'Fix the syntax at the file and line named in the message.' },
  FUSION_ERR_FILE_IO: { status: 500, hint: 'Check that the path exists and that the service user may read or write it.' },
  FUSION_ERR_FILE_EXISTS: { status: 409, hint: 'Something exists at this path already: use another name or remove it first.' },
  FUSION_ERR_NOT_SERIALIZABLE: { status: 500, hint: 'Save plain JSON data only: no BigInt, functions, undefined or cycles.' },
  FUSION_ERR_UNAVAILABLE: { status: 503, hint: 'The service is starting, stopping or cannot reach its storage: retry later.' },
  FUSION_ERR_BAD_RESPONSE: { status: 502, hint: 'The answer is not a Fusion envelope: check that baseUrl points to a Fusion service.' },
  FUSION_ERR_CONNECTION: { status: 502, hint: 'Check the URL, the network, the proxy and the TLS settings of the client.' },
  FUSION_ERR_WEBHOOK_URL: { status: 400, hint: 'Give an http(s) URL without user:password@, to a public host (or one listed in event.webhook_allow).' },
  FUSION_ERR_WEBHOOK_REFUSED: { status: 400, hint: 'The webhook host resolves to a private, loopback or link-local address: list it in event.webhook_allow if that is intended.' },
  FUSION_ERR_WEBHOOK_SIGNATURE: { status: 401, hint: 'Check that sender and receiver share the webhook secret (whsec_...) and that the raw body is verified unchanged.' },
  FUSION_ERR_WEBHOOK_TIMESTAMP: { status: 401, hint: 'Check the clocks of sender and receiver (NTP); the webhook-timestamp must be within the tolerance.' },
  FUSION_ERR_WEBHOOK_REPLAY: { status: 409, hint: 'This webhook-id was received already: acknowledge it without handling it again.' },
  FUSION_ERR_IDP_UNAVAILABLE: { status: 503, hint: 'The identity provider cannot be reached or refused this service: retry later; check auth.backend (issuer or url, client, verify) and the server log.' },
  FUSION_ERR_TCP_FRAMING: { status: 400, hint: 'The bytes do not fit the framing (frame over max_frame_bytes, delimiter inside a line frame, or a splitter refusal): check both ends use the same framing and limit.' },
  FUSION_ERR_TCP_QUEUE_FULL: { status: 503, hint: 'The TCP client is disconnected and its send queue is full: wait for the connection (onConnect) or raise maxQueuedFrames.' },
  FUSION_ERR_TCP_CLOSED: { status: 503, hint: 'The TCP client was closed: create a new FusionTcpClient.' },
  FUSION_ERR_CLOUD_PATH: { status: 400, hint: 'Use a /-separated path relative to the cloud root: no "..", ".", empty, absolute or over-long (255 bytes) segments, no backslash, NUL or encoded slash, no symbolic link leading out of the root.' },
  FUSION_ERR_CLOUD_NOT_FOUND: { status: 404, hint: 'List the parent directory with GET /api/cloud/tree/<dir> to find the right path.' },
  FUSION_ERR_CLOUD_EXISTS: { status: 409, hint: 'Something exists at this path already: pick another name, or pass overwrite=true to replace a file.' },
  FUSION_ERR_CLOUD_NOT_EMPTY: { status: 409, hint: 'The directory is not empty: pass recursive=true to delete it with its content.' },
  FUSION_ERR_CLOUD_TOO_LARGE: { status: 413, hint: 'The file is larger than cloud.max_file_bytes: split it or ask for a higher limit.' },
  FUSION_ERR_CLOUD_QUOTA: { status: 413, hint: 'Your files would exceed cloud.quota_bytes: delete some of them or ask for a higher quota.' },
  FUSION_ERR_CLOUD_ROLE: { status: 400, hint: 'Name a role listed in cloud.roles (GET /api/cloud/roles/<path> shows the assignments).' },
  FUSION_ERR_CLOUD_DRIVER: { status: 502, hint: 'The cloud storage backend (disk or S3 endpoint) failed: check cloud.root or cloud.s3 and the server log.' },
  FUSION_ERR_CLOUD_UPLOAD: { status: 400, hint: 'The resumable upload was refused as the message says: start a new one (POST /api/cloud/uploads/) if it is gone.' },
  FUSION_ERR_TASK_INVALID: { status: 500, hint: 'Fix the task definition named in the message (name, on, interval or cron, run).' },
  FUSION_ERR_ANALYZER_UNKNOWN: { status: 404, hint: 'List the analyzers with GET /api/config/analyzers and use one of their names.' },
  FUSION_ERR_ANALYSIS_NOT_FOUND: { status: 404, hint: 'Queue the analysis first with PUT /api/case/:case_guid/analysis/:analyzer.' },
  FUSION_ERR_ANALYSIS_TRANSITION: { status: 409, hint: 'An analysis moves pending, queued, extracting, processing, then success or failure: wait for it to finish before queueing it again.' },
  FUSION_ERR_REQUEST_TIMEOUT: { status: 408, hint: 'Send the whole request (headers and body) without pausing; see server.request_timeout and server.body_idle_timeout.' },
  FUSION_ERR_URI_TOO_LONG: { status: 414, hint: 'Shorten the URL: a path parameter is longer than the server accepts.' },
  FUSION_ERR_HEADERS_TOO_LARGE: { status: 431, hint: 'Send fewer or smaller headers (cookies included).' },
  FUSION_ERR_RPC_PARSE: { status: 400, hint: 'Send each WebSocket text frame as one JSON-RPC 2.0 object in valid JSON.' },
  FUSION_ERR_RPC_INVALID_REQUEST: { status: 400, hint: 'Send {"jsonrpc":"2.0","id":N,"method":"name","params":{...}} (see docs/rpc.md).' },
  FUSION_ERR_RPC_METHOD_NOT_FOUND: { status: 404, hint: 'Call a method the service registers (check the name and your client_type).' },
  FUSION_ERR_RPC_CANCELLED: { status: 499, hint: 'The call was cancelled (rpc.cancel, a closed connection or a shutdown): send it again if still needed.' },
  FUSION_ERR_RPC_TICKET: { status: 401, hint: 'Get a new ticket from POST /api/rpc/ticket: a ticket works once, within 30 seconds.' },
  FUSION_ERR_RPC_ORIGIN: { status: 403, hint: 'Open the WebSocket from the service own origin, or list yours in rpc.allowed_origins.' },
} as const satisfies Record<string, { status: number; hint: string }>;

/** A stable, machine-readable error code: match on it rather than on messages or classes. */
export type FusionErrorCode = keyof typeof FUSION_ERRORS;

/** Base class of every error the framework raises on purpose; carries a stable `code`. */
export class FusionError extends Error {
  /** Stable machine-readable code, see FUSION_ERRORS. */
  readonly code: FusionErrorCode;
  /** HTTP status the server answers with for this error. */
  readonly status: number;

  constructor(code: FusionErrorCode, message: string, options?: { cause?: unknown; status?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FusionError';
    this.code = code;
    this.status = options?.status ?? FUSION_ERRORS[code].status;
  }

  /** What the user can do about this error. */
  get hint(): string {
    return FUSION_ERRORS[this.code].hint;
  }
}

/** True when `value` is a FusionError, even one from another copy of the package. */
export function isFusionError(value: unknown): value is FusionError {
  if (value instanceof FusionError) return true;
  const code = value instanceof Error ? (value as Error & { code?: unknown }).code : undefined;
  return typeof code === 'string' && code in FUSION_ERRORS;
}
