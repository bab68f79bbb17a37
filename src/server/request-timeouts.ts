/**
 * Slow requests: `server.request_timeout` bounds the time a whole request (headers and body)
 * may take to arrive (node's `requestTimeout`, answered 408 by framework-errors.ts), and
 * `server.body_idle_timeout` the time a body may pause. Only requests still arriving count: a
 * Server-Sent Events stream or a WebSocket, whose request is complete, lives as long as it wants.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerOptions } from 'node:http';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import type { FusionServerConfig } from './config.js';
import { errorEnvelope } from './envelope.js';

/** Grace, in milliseconds, for the client to read a 408 before its connection is destroyed. */
const CLOSE_GRACE_MS = 2000;

/** The fastify options of `server.request_timeout` (how often node checks follows from it). */
export function requestTimeoutOptions(server: Pick<FusionServerConfig, 'requestTimeout'>): Pick<FastifyServerOptions, 'requestTimeout'> & { http?: ServerOptions } {
  const ms = Math.round(server.requestTimeout * 1000);
  if (ms <= 0) return { requestTimeout: 0 };
  // node looks for late requests every connectionsCheckingInterval (30 s by default): a shorter
  // timeout needs a shorter interval to be answered near its time.
  const interval = Math.min(30_000, Math.max(100, Math.floor(ms / 4)));
  return { requestTimeout: ms, http: { connectionsCheckingInterval: interval } };
}

/** Applies `server.request_timeout` to the headers too (node's headersTimeout must not exceed it). */
export function applyHeadersTimeout(app: FastifyInstance, server: Pick<FusionServerConfig, 'requestTimeout'>): void {
  const ms = Math.round(server.requestTimeout * 1000);
  if (ms > 0 && app.server.headersTimeout > ms) app.server.headersTimeout = ms;
}

function hasBody(headers: IncomingHttpHeaders): boolean {
  if (headers['transfer-encoding'] !== undefined) return true;
  const length = Number(headers['content-length'] ?? 0);
  return Number.isFinite(length) && length > 0;
}

/**
 * Answers 408 (in the envelope) a request whose body receives no byte for `server.body_idle_timeout`
 * seconds, then closes its connection. Progress is read from the socket's byte count: listening
 * to the body itself would consume it before the route's parser does.
 */
export function installBodyIdleTimeout(app: FastifyInstance, server: Pick<FusionServerConfig, 'bodyIdleTimeout'>): void {
  const idleMs = Math.round(server.bodyIdleTimeout * 1000);
  if (idleMs <= 0) return;
  const checkEvery = Math.max(25, Math.min(1000, Math.floor(idleMs / 4)));
  app.addHook('onRequest', (request, reply, done) => {
    const raw: IncomingMessage = request.raw;
    const socket = raw.socket;
    if (raw.complete || !hasBody(raw.headers) || !socket) {
      done();
      return;
    }
    let lastBytes = socket.bytesRead;
    let lastProgress = Date.now();
    const timer = setInterval(() => {
      if (raw.complete || reply.sent || socket.destroyed) {
        stop();
        return;
      }
      if (socket.bytesRead !== lastBytes) {
        lastBytes = socket.bytesRead;
        lastProgress = Date.now();
      } else if (Date.now() - lastProgress >= idleMs) {
        stop();
        const message = `request body stalled: no byte received for ${server.bodyIdleTimeout} s (server.body_idle_timeout)`;
        request.log.info({ code: 'FUSION_ERR_REQUEST_TIMEOUT', status: 408 }, message);
        reply.raw.once('finish', () => {
          socket.end();
          setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
        });
        void reply.code(408).header('connection', 'close').send(errorEnvelope(408, 'FUSION_ERR_REQUEST_TIMEOUT', message, request.id));
      }
    }, checkEvery);
    timer.unref();
    const stop = (): void => {
      clearInterval(timer);
      raw.off('end', stop);
      raw.off('close', stop);
    };
    raw.once('end', stop);
    raw.once('close', stop);
    done();
  });
}
