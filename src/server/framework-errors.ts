/**
 * The errors fastify and node's HTTP parser produce before any route runs, answered with the
 * error envelope like every other error: a request line node cannot parse, an unknown method,
 * headers too large, a request that took too long (node's `clientError`), a URL that is not
 * valid percent-encoding, a path parameter too long (fastify's `frameworkErrors`).
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import { FusionError, type FusionErrorCode } from '../helper/errors.js';
import type { FusionLogger } from '../helper/logging.js';
import { errorEnvelope } from './envelope.js';
import { sendError } from './error-handler.js';

interface ClientAnswer {
  status: number;
  code: FusionErrorCode;
  message: string;
}

/** What node's parser error `code` is answered with. */
function clientAnswer(code: string | undefined): ClientAnswer {
  switch (code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, code: 'FUSION_ERR_REQUEST_TIMEOUT', message: 'request not received in time: send the whole request without pausing (server.request_timeout)' };
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, code: 'FUSION_ERR_HEADERS_TOO_LARGE', message: 'request headers are too large: send fewer or smaller headers (cookies included)' };
    case 'HPE_INVALID_METHOD':
      return { status: 405, code: 'FUSION_ERR_METHOD_NOT_ALLOWED', message: 'unknown HTTP method: use GET, POST, PUT or DELETE' };
    case 'HPE_INVALID_CONTENT_LENGTH':
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
      return { status: 400, code: 'FUSION_ERR_BAD_REQUEST', message: 'invalid Content-Length header' };
    case 'HPE_INVALID_TRANSFER_ENCODING':
    case 'HPE_INVALID_CHUNK_SIZE':
      return { status: 400, code: 'FUSION_ERR_BAD_REQUEST', message: 'invalid chunked body or Transfer-Encoding header' };
    default:
      return { status: 400, code: 'FUSION_ERR_BAD_REQUEST', message: 'malformed HTTP request: check the request line and headers' };
  }
}

const REASONS: Record<number, string> = { 400: 'Bad Request', 405: 'Method Not Allowed', 408: 'Request Timeout', 413: 'Payload Too Large', 431: 'Request Header Fields Too Large' };

/**
 * fastify's `clientErrorHandler`: node could not parse a request (or it came too slowly).
 * Writes the error envelope on the raw socket, then closes it.
 */
export function clientErrorHandler(logger: FusionLogger): (error: NodeJS.ErrnoException, socket: Socket) => void {
  let counter = 0;
  return (error, socket) => {
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const answer = clientAnswer(error.code);
    const requestId = `client-error-${(++counter).toString(36)}`;
    logger.info({ code: answer.code, status: answer.status, parser_code: error.code, request_id: requestId }, answer.message);
    if (socket.writable && (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent !== true) {
      const body = JSON.stringify(errorEnvelope(answer.status, answer.code, answer.message, requestId));
      socket.write(
        `HTTP/1.1 ${answer.status} ${REASONS[answer.status] ?? 'Error'}\r\nContent-Type: application/json; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.end();
    setTimeout(() => socket.destroy(), 1000).unref();
  };
}

/** fastify's `frameworkErrors`: a URL that is not valid percent-encoding, a path parameter too long. */
export function frameworkErrorToFusion(error: FastifyError): FusionError {
  switch (error.code) {
    case 'FST_ERR_BAD_URL':
      return new FusionError('FUSION_ERR_BAD_REQUEST', 'the URL is not valid percent-encoding: encode each path segment with encodeURIComponent', { status: 400 });
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new FusionError('FUSION_ERR_URI_TOO_LONG', 'a path parameter is too long: check the URL (GUIDs are 36 characters)', { status: 414 });
    default:
      return new FusionError('FUSION_ERR_BAD_REQUEST', 'the request could not be routed', { status: 400 });
  }
}

/** The fastify options that route protocol-level errors through the envelope. */
export function frameworkErrorOptions(logger: FusionLogger): Pick<FastifyServerOptions, 'clientErrorHandler' | 'frameworkErrors'> {
  return {
    clientErrorHandler: clientErrorHandler(logger),
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      sendError(frameworkErrorToFusion(error), request, reply);
    },
  };
}

/** Answers CONNECT (no proxy here) with a 405 envelope instead of node's silent close. */
export function refuseConnect(server: Server): void {
  server.on('connect', (_request: unknown, socket: Socket) => {
    const body = JSON.stringify(errorEnvelope(405, 'FUSION_ERR_METHOD_NOT_ALLOWED', 'CONNECT is not supported: this is not a proxy', 'connect'));
    socket.end(`HTTP/1.1 405 Method Not Allowed\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    setTimeout(() => socket.destroy(), 1000).unref();
  });
}
