/** Prometheus metrics: the per-server registry, the `metrics` section and the scrape API (see docs/observability.md). */
export { FusionMetrics } from './registry.js';
export type { SeriesOptions, GaugeOptions, HistogramOptions } from './registry.js';
export { readMetricsConfig, METRICS_DEFAULTS } from './config.js';
export type { FusionMetricsConfig } from './config.js';
export { FusionMetricsAPI } from './impl.js';
export { REQUEST_DURATION_SERIES } from './request-series.js';
