/**
 * The `telemetry` section (optional; tracing works without it): switches for the spans the
 * server makes itself. Spans are recorded only once the service registers an OpenTelemetry SDK.
 */
import { ConfigReader } from '../../helper/config.js';

/** The parsed `telemetry` section. */
export interface FusionTelemetryConfig {
  /**
   * `request_spans`: a span per HTTP request (`@fastify/otel`), continuing an incoming
   * `traceparent`. `auto` (default): on when an OpenTelemetry SDK is registered before the server
   * is built (off, the instrumentation would still cost a few microseconds per request for nothing).
   */
  requestSpans: boolean | 'auto';
  /** `hook_spans`: also a span per fastify hook of each request (default false: many short spans). */
  hookSpans: boolean;
}

/** What an absent or empty `telemetry` section gives. */
export const TELEMETRY_DEFAULTS: Readonly<FusionTelemetryConfig> = Object.freeze({ requestSpans: 'auto', hookSpans: false });

/** Parses a raw `telemetry` section (`config.raw.telemetry`); throws ConfigError naming a bad or unknown key. */
export function readTelemetryConfig(raw: unknown): FusionTelemetryConfig {
  if (raw === undefined || raw === null) return { ...TELEMETRY_DEFAULTS };
  const reader = new ConfigReader(raw, { key: 'telemetry' });
  const config: FusionTelemetryConfig = {
    requestSpans: reader.raw('request_spans') === 'auto' ? 'auto' : (reader.optionalBoolean('request_spans') ?? TELEMETRY_DEFAULTS.requestSpans),
    hookSpans: reader.boolean('hook_spans', { default: TELEMETRY_DEFAULTS.hookSpans }),
  };
  reader.assertNoUnknownKeys();
  return config;
}
