/** The `download` section: how many one-time download keys may wait, and for how long. */
import type { ConfigReader } from '../../helper/config.js';

/** The parsed `download` section. */
export interface FusionDownloadConfig {
  /** Most keys prepared but not yet fetched, across every instance (`max_pending_count`). */
  maxPendingCount: number;
  /** Seconds a prepared key stays valid before its first GET (`timeout`, as edf_fusion). */
  timeout: number;
  /**
   * Seconds after the first GET (and after each later one ends) during which the client that
   * made it may resume with a Range request (`resume_window`); 0 turns resuming off.
   */
  resumeWindow: number;
}

/** Defaults of the `download` section. */
export const DOWNLOAD_DEFAULTS: Readonly<FusionDownloadConfig> = Object.freeze({
  maxPendingCount: 64,
  timeout: 5,
  resumeWindow: 60,
});

/** Parses the `download` section; throws ConfigError naming the bad key. */
export function parseDownloadConfig(reader: ConfigReader): FusionDownloadConfig {
  const timeout = reader.number('timeout', { default: DOWNLOAD_DEFAULTS.timeout, min: 0 });
  if (timeout <= 0) throw reader.error('timeout', `expected a number of seconds > 0, got ${timeout}`);
  return {
    maxPendingCount: reader.integer('max_pending_count', { default: DOWNLOAD_DEFAULTS.maxPendingCount, min: 1 }),
    timeout,
    resumeWindow: reader.number('resume_window', { default: DOWNLOAD_DEFAULTS.resumeWindow, min: 0 }),
  };
}
