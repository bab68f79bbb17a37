/**
 * The request series: one root `onResponse` hook (added before any API, so every route has it)
 * observing `fusion_http_request_duration_seconds{method,route,status_code}`; its `_count` is
 * the number of requests. `route` is the route's template (`/api/case/:case_guid`), or
 * `unmatched` for a 404 without a route, so labels stay few.
 */
import type { FastifyInstance } from 'fastify';
import type { FusionMetrics } from './registry.js';

/** Name of the request latency histogram. */
export const REQUEST_DURATION_SERIES = 'fusion_http_request_duration_seconds';

/** Adds the request hook to `app` (the root instance) when metrics are enabled. */
export function installRequestSeries(app: FastifyInstance, metrics: FusionMetrics): void {
  if (!metrics.enabled) return;
  const duration = metrics.histogram({
    name: REQUEST_DURATION_SERIES,
    help: 'HTTP requests answered, by method, route template and status code: latency in seconds',
    labelNames: ['method', 'route', 'status_code'],
  });
  app.addHook('onResponse', (request, reply, done) => {
    duration.observe({ method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: reply.statusCode }, reply.elapsedTime / 1000);
    done();
  });
}
