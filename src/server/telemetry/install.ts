/**
 * What the server installs on its root fastify instance, before any API: the request spans
 * (`telemetry` section) and the request series of its own metrics registry (`metrics` section).
 */
import type { FastifyInstance } from 'fastify';
import type { FusionConfig } from '../config.js';
import { readMetricsConfig } from '../metrics/config.js';
import { FusionMetrics } from '../metrics/registry.js';
import { installRequestSeries } from '../metrics/request-series.js';
import { readTelemetryConfig } from './config.js';
import { installRequestSpans } from './request-spans.js';

/** Parses `telemetry` and `metrics` (ConfigError on a bad key), instruments `app`, returns the server's metrics. */
export function installObservability(app: FastifyInstance, config: FusionConfig): FusionMetrics {
  const metrics = new FusionMetrics(readMetricsConfig(config.raw.metrics));
  installRequestSpans(app, readTelemetryConfig(config.raw.telemetry));
  installRequestSeries(app, metrics);
  return metrics;
}
