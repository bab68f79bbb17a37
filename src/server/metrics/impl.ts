/**
 * FusionMetricsAPI: `GET /api/metrics`, the server's series in Prometheus text format,
 * authorized like any route (operation `metrics`; scrape it with an API key). Mounted by the
 * `metrics` section; serves nothing (404) unless `metrics.enabled` is true. See docs/observability.md.
 */
import type { FastifyInstance } from 'fastify';
import { FusionError } from '../../helper/errors.js';
import { FusionAPI } from '../api.js';
import type { FusionHost } from '../host.js';
import { registerFrameworkSeries } from './framework-series.js';

/** Serves the server's registry at /api/metrics (see the file comment). */
export class FusionMetricsAPI extends FusionAPI {
  /** The API name. */
  readonly name: string = 'metrics';

  /** Registers the framework's series and the scrape route (only when metrics are enabled). */
  setup(app: FastifyInstance, server: FusionHost): void {
    const metrics = server.metrics;
    if (!metrics.enabled) return;
    registerFrameworkSeries(metrics, server);
    server.route(
      app,
      {
        method: 'GET',
        url: '/api/metrics',
        operation: 'metrics',
        produces: 'text/plain',
        errors: ['FUSION_ERR_UNAVAILABLE'],
        summary: 'Prometheus metrics of this instance (text exposition format)',
      },
      async ({ reply }) => {
        let text: string;
        try {
          text = await metrics.text();
        } catch (error) {
          server.logger.warn({ err: error }, 'metrics: reading a series failed');
          throw new FusionError('FUSION_ERR_UNAVAILABLE', `metrics: reading a series failed: ${error instanceof Error ? error.message : String(error)}`);
        }
        return reply.header('content-type', metrics.contentType).send(text);
      },
    );
  }
}
