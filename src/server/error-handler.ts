/**
 * The one error handler: every error a route, a hook or fastify itself raises becomes the
 * error envelope `{status, message, code, request_id}`. Internals of a 5xx go to the log only.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isFusionError } from '../helper/errors.js';
import type { FusionErrorCode } from '../helper/errors.js';
import { sendAfterDrain } from './body-drain.js';
import { errorEnvelope } from './envelope.js';

/** What an error turns into on the wire. */
export interface MappedError {
  status: number;
  code: FusionErrorCode;
  message: string;
  /** True when the error is not the client's fault: log it with its stack. */
  internal: boolean;
}

interface ValidationItem {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** fastify's own error codes we answer with a precise Fusion code. */
const FASTIFY_CODES: Record<string, FusionErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'FUSION_ERR_BAD_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'FUSION_ERR_BAD_JSON',
  FST_ERR_CTP_BODY_TOO_LARGE: 'FUSION_ERR_BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'FUSION_ERR_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'FUSION_ERR_BAD_REQUEST',
};

const MESSAGES: Partial<Record<FusionErrorCode, string>> = {
  FUSION_ERR_BAD_JSON: 'request body is not valid JSON: send a JSON document with Content-Type: application/json',
  FUSION_ERR_UNSUPPORTED_MEDIA_TYPE: 'unsupported Content-Type: send the body as application/json',
};

/** Renders a fastify/ajv validation error as `body.name: must NOT have fewer than 1 characters`. */
export function validationMessage(context: string | undefined, items: readonly ValidationItem[]): string {
  const item = items[0];
  if (!item) return `${context ?? 'request'}: invalid`;
  let path = context ?? 'request';
  if (item.instancePath) {
    for (const part of item.instancePath.split('/').slice(1)) {
      path += `.${part.replace(/~1/g, '/').replace(/~0/g, '~')}`;
    }
  }
  const params = item.params ?? {};
  if (item.keyword === 'required' && typeof params.missingProperty === 'string') {
    return `${path}.${params.missingProperty}: is required`;
  }
  if (item.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
    return `${path}.${params.additionalProperty}: is not allowed`;
  }
  return `${path}: ${item.message ?? 'is invalid'}`;
}

/** Maps any thrown value to status, code and a client-safe message. */
export function mapError(error: unknown): MappedError {
  if (isFusionError(error)) {
    const status = typeof error.status === 'number' ? error.status : 500;
    // A deliberate 5xx other than 500 (503 constant unavailable, 504 timeout) keeps its message;
    // a 500 may wrap internals (storage, subprocess), so its message stays in the log.
    if (status === 500 || status < 400 || status > 599) {
      return { status: 500, code: error.code, message: 'internal error', internal: true };
    }
    return { status, code: error.code, message: error.message, internal: false };
  }
  const fastifyError = error as Partial<FastifyError> | null | undefined;
  if (fastifyError && Array.isArray(fastifyError.validation)) {
    const items = fastifyError.validation as ValidationItem[];
    const first = items[0];
    if (fastifyError.validationContext === 'params' && first?.keyword === 'format' && first.params?.format === 'uuid') {
      const name = (first.instancePath ?? '').slice(1);
      const message = `${name}: expected a UUID such as 0f6c2d9a-3b1e-4f5a-9c8d-7e6f5a4b3c2d`;
      return { status: 400, code: 'FUSION_ERR_BAD_GUID', message, internal: false };
    }
    const message = validationMessage(fastifyError.validationContext, items);
    return { status: 400, code: 'FUSION_ERR_VALIDATION', message, internal: false };
  }
  const known = typeof fastifyError?.code === 'string' ? FASTIFY_CODES[fastifyError.code] : undefined;
  if (known) {
    const status = known === 'FUSION_ERR_BODY_TOO_LARGE' ? 413 : known === 'FUSION_ERR_UNSUPPORTED_MEDIA_TYPE' ? 415 : 400;
    const message =
      known === 'FUSION_ERR_BODY_TOO_LARGE'
        ? 'request body is too large: send a smaller body or raise server.client_max_size'
        : (MESSAGES[known] ?? String(fastifyError?.message));
    return { status, code: known, message, internal: false };
  }
  const status = fastifyError?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { status, code: codeForStatus(status), message: String(fastifyError?.message ?? 'bad request'), internal: false };
  }
  const serverStatus = typeof status === 'number' && status > 500 && status < 600 ? status : 500;
  return { status: serverStatus, code: 'FUSION_ERR_INTERNAL', message: internalMessage(serverStatus), internal: true };
}

function internalMessage(status: number): string {
  return status === 503 ? 'service unavailable' : 'internal error';
}

function codeForStatus(status: number): FusionErrorCode {
  switch (status) {
    case 401:
      return 'FUSION_ERR_UNAUTHORIZED';
    case 403:
      return 'FUSION_ERR_FORBIDDEN';
    case 404:
      return 'FUSION_ERR_NOT_FOUND';
    case 405:
      return 'FUSION_ERR_METHOD_NOT_ALLOWED';
    case 413:
      return 'FUSION_ERR_BODY_TOO_LARGE';
    case 415:
      return 'FUSION_ERR_UNSUPPORTED_MEDIA_TYPE';
    case 429:
      return 'FUSION_ERR_RATE_LIMITED';
    default:
      return 'FUSION_ERR_BAD_REQUEST';
  }
}

/**
 * Sends the error envelope for `error` and logs it (5xx with the full error, 4xx briefly). A
 * 413 is sent once the refused body is drained (body-drain.ts), then the connection closes.
 */
export function sendError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply | Promise<FastifyReply> {
  const mapped = mapError(error);
  if (mapped.internal) {
    request.log.error({ err: error, code: mapped.code }, 'request failed');
  } else {
    request.log.info({ code: mapped.code, status: mapped.status }, mapped.message);
  }
  const body = errorEnvelope(mapped.status, mapped.code, mapped.message, request.id);
  const retryAfter = Number(reply.getHeader('retry-after'));
  if (mapped.status === 429 && Number.isInteger(retryAfter) && retryAfter > 0) body.retry_after = retryAfter;
  if (mapped.status === 413) return sendAfterDrain(request, reply, 413, body);
  return reply.code(mapped.status).send(body);
}

/** Installs the error handler and the not-found handler on the root instance. */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => sendError(error, request, reply));
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!.slice(0, 200);
    const message = `no route ${request.method} ${path}: check the URL against GET /api/openapi.json`;
    reply.code(404).send(errorEnvelope(404, 'FUSION_ERR_NOT_FOUND', message, request.id));
  });
}
