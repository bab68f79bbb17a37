/** Server-side tracing: the `telemetry` section and the request spans (see docs/observability.md). */
export { readTelemetryConfig, TELEMETRY_DEFAULTS } from './config.js';
export type { FusionTelemetryConfig } from './config.js';
export { installRequestSpans, isTracerProviderRegistered } from './request-spans.js';
