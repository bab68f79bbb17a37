/**
 * The `analyzers` section: where analyses keep their logs and results, how workers poll and
 * hold their leases, and one sub-section per analyzer (`enabled`, `workers`, `timeout`,
 * `retries`). Its presence mounts the analysis API; `fusion analyzer NAME` reads it too.
 */
import { ConfigReader } from '../../helper/config.js';
import type { FusionConfig } from '../config.js';

/** Settings of one analyzer. */
export interface AnalyzerSettings {
  /** `enabled`: false keeps it out of GET /api/config/analyzers and refuses to queue or run it (default true). */
  enabled: boolean;
  /** `workers`: analyses one `fusion analyzer` process runs at once (default 1). */
  workers: number;
  /** `timeout`: seconds an analysis may run before it fails (default 3600). */
  timeout: number;
  /** `retries`: how many times an analysis interrupted by a lost worker is queued again before it fails (default 1). */
  retries: number;
}

/** The parsed `analyzers` section. */
export interface FusionAnalyzersConfig {
  /** `directory`: where each analysis keeps `<case_guid>/<analyzer>/analysis.log` and `output.zip` (default `analyses`, relative to the config file). */
  directory: string;
  /** `poll_interval`: seconds an idle worker waits before asking the queue again (default 1). */
  pollInterval: number;
  /** `lease`: seconds a worker's claim on an analysis lasts without renewal; a dead worker's work is recovered after it (default 30). */
  lease: number;
  /** Per-analyzer settings by name; unnamed analyzers get ANALYZER_DEFAULTS. */
  analyzers: Record<string, AnalyzerSettings>;
}

/** What an analyzer absent from the section gets. */
export const ANALYZER_DEFAULTS: Readonly<AnalyzerSettings> = Object.freeze({ enabled: true, workers: 1, timeout: 3600, retries: 1 });

const GLOBAL_KEYS = new Set(['directory', 'poll_interval', 'lease']);

/** Parses the `analyzers` section of `config` (an absent section gives the defaults); ConfigError names a bad key. */
export function readAnalyzersConfig(config: Pick<FusionConfig, 'raw' | 'baseDir'>, env?: Readonly<Record<string, string | undefined>>): FusionAnalyzersConfig {
  const reader = new ConfigReader(config.raw.analyzers ?? {}, { key: 'analyzers', baseDir: config.baseDir, ...(env ? { env } : {}) });
  const parsed: FusionAnalyzersConfig = {
    directory: reader.filePath('directory', { default: 'analyses' }),
    pollInterval: reader.number('poll_interval', { default: 1, min: 0.05 }),
    lease: reader.number('lease', { default: 30, min: 1 }),
    analyzers: {},
  };
  for (const name of reader.keys()) {
    if (GLOBAL_KEYS.has(name)) continue;
    const section = reader.section(name);
    parsed.analyzers[name] = {
      enabled: section.boolean('enabled', { default: ANALYZER_DEFAULTS.enabled }),
      workers: section.integer('workers', { default: ANALYZER_DEFAULTS.workers, min: 1, max: 256 }),
      timeout: section.number('timeout', { default: ANALYZER_DEFAULTS.timeout, min: 0.001 }),
      retries: section.integer('retries', { default: ANALYZER_DEFAULTS.retries, min: 0 }),
    };
  }
  reader.assertNoUnknownKeys();
  return parsed;
}

/** The settings of analyzer `name` (its sub-section, else the defaults). */
export function analyzerSettings(config: FusionAnalyzersConfig, name: string): AnalyzerSettings {
  return config.analyzers[name] ?? { ...ANALYZER_DEFAULTS };
}
