/**
 * The `metrics` section: its presence mounts the metrics API; `enabled: true` serves
 * `GET /api/metrics` and records the request series (off by default: nothing is recorded).
 */
import { ConfigReader } from '../../helper/config.js';

/** The parsed `metrics` section. */
export interface FusionMetricsConfig {
  /** `enabled`: record the series and serve them at `/api/metrics` (default false). */
  enabled: boolean;
  /** `process_metrics`: also prom-client's process series (CPU, memory, event loop lag, GC), default false. */
  processMetrics: boolean;
}

/** What an absent or empty `metrics` section gives. */
export const METRICS_DEFAULTS: Readonly<FusionMetricsConfig> = Object.freeze({ enabled: false, processMetrics: false });

/** Parses a raw `metrics` section (`config.raw.metrics`); throws ConfigError naming a bad or unknown key. */
export function readMetricsConfig(raw: unknown): FusionMetricsConfig {
  if (raw === undefined || raw === null) return { ...METRICS_DEFAULTS };
  const reader = new ConfigReader(raw, { key: 'metrics' });
  const config: FusionMetricsConfig = {
    enabled: reader.boolean('enabled', { default: METRICS_DEFAULTS.enabled }),
    processMetrics: reader.boolean('process_metrics', { default: METRICS_DEFAULTS.processMetrics }),
  };
  reader.assertNoUnknownKeys();
  return config;
}
