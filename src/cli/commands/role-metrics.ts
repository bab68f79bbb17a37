/**
 * `--metrics-port PORT` of `fusion task` and `fusion analyzer`: a worker process serves no API,
 * so this listener answers only `/api/metrics`, handed to the role server's own route (the same
 * `metrics` section and the same authorization as under `fusion serve`); any other path is a 404.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { errorEnvelope } from '../../server/envelope.js';
import type { FusionServer } from '../../server/server.js';
import { EXIT_USAGE } from '../command.js';

/** The one path the listener serves. */
export const ROLE_METRICS_PATH = '/api/metrics';

/** A listening metrics endpoint of a worker process. */
export interface RoleMetricsListener {
  /** `http://HOST:PORT/api/metrics`. */
  readonly url: string;
  /** Stops listening and ends open connections. */
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding']);

/** The port in `value` (an integer 0..65535; 0 picks a free one), or an error message naming the option. */
export function parseMetricsPort(value: string | boolean | undefined): number | undefined | string {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (typeof value !== 'string' || value.trim() === '' || !Number.isInteger(port) || port < 0 || port > 65535) return `--metrics-port must be a port number (0..65535), got ${String(value)}`;
  return port;
}

/** Listens on `port` of the configured `server.host` and serves `server`'s /api/metrics there; refuses when metrics are not enabled. */
export async function serveRoleMetrics(server: FusionServer, port: number): Promise<RoleMetricsListener> {
  if (!server.metrics.enabled) throw new Error('--metrics-port needs the configuration section metrics: { enabled: true }');
  const listener = createServer((request, response) => void answer(server, request, response));
  const host = server.config.server.host;
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(port, host, () => {
      listener.off('error', reject);
      resolve();
    });
  });
  const address = listener.address();
  const actualPort = typeof address === 'object' && address !== null ? address.port : port;
  const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${actualPort}${ROLE_METRICS_PATH}`,
    close: () =>
      new Promise<void>((resolve) => {
        listener.close(() => resolve());
        listener.closeAllConnections();
      }),
  };
}

async function answer(server: FusionServer, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = request.url ?? '/';
  const path = url.split('?')[0]!;
  if (path !== ROLE_METRICS_PATH) {
    const message = `no route ${request.method ?? 'GET'} ${path.slice(0, 200)}: a worker process serves only ${ROLE_METRICS_PATH}`;
    sendJson(response, 404, errorEnvelope(404, 'FUSION_ERR_NOT_FOUND', message, randomUUID()));
    return;
  }
  try {
    const reply = await server.fastify.inject({
      method: (request.method ?? 'GET') as 'GET',
      url,
      headers: request.headers,
      remoteAddress: request.socket.remoteAddress ?? '127.0.0.1',
    });
    const headers: OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(reply.headers)) if (value !== undefined && !HOP_BY_HOP.has(name.toLowerCase())) headers[name] = value;
    response.writeHead(reply.statusCode, headers);
    response.end(reply.rawPayload);
  } catch (error) {
    server.logger.error({ err: error }, 'metrics listener: answering a scrape failed');
    sendJson(response, 500, errorEnvelope(500, 'FUSION_ERR_INTERNAL', 'internal error', randomUUID()));
  }
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

/** Starts the listener of a role when `port` is set and prints its URL; an exit code (after closing `server`) when it cannot. */
export async function startRoleMetrics(command: string, server: FusionServer, port: number | undefined): Promise<RoleMetricsListener | null | number> {
  if (port === undefined) return null;
  try {
    const listener = await serveRoleMetrics(server, port);
    process.stdout.write(`fusion ${command}: metrics at ${listener.url}\n`);
    return listener;
  } catch (error) {
    await server.close().catch(() => undefined);
    process.stderr.write(`fusion ${command}: ${(error as Error).message}\n`);
    return server.metrics.enabled ? 1 : EXIT_USAGE;
  }
}
