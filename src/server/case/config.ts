/**
 * The `case` section. Its presence mounts the case API (`FusionServer.fromConfig`); its one
 * key decides whether people may leave a case's access control set empty (open to everyone).
 */
import { ConfigReader } from '../../helper/config.js';

/** The parsed `case` section. */
export interface FusionCaseConfig {
  /**
   * `allow_empty_acs` (default true): when false, a user (not an API-key client) may not
   * create a case with an empty `acs` nor update one to `acs: []` (400). Keep it equal to
   * `Constant.allow_empty_acs` so front-ends offer what the server accepts.
   */
  allowEmptyAcs: boolean;
}

/** The defaults: what an empty `case:` section gives. */
export const DEFAULT_CASE_CONFIG: Readonly<FusionCaseConfig> = Object.freeze({ allowEmptyAcs: true });

/** Parses the `case` section; throws ConfigError naming the bad key. */
export function parseCaseConfig(reader: ConfigReader): FusionCaseConfig {
  return {
    allowEmptyAcs: reader.boolean('allow_empty_acs', { default: DEFAULT_CASE_CONFIG.allowEmptyAcs }),
  };
}

/**
 * Parses a raw `case` section (as `FusionConfig.raw.case` holds it) and reports unknown keys:
 * ConfigError `case.<key>: unknown key, did you mean ...`.
 */
export function readCaseConfig(raw: unknown, options: { env?: Readonly<Record<string, string | undefined>>; baseDir?: string } = {}): FusionCaseConfig {
  const reader = new ConfigReader(raw, { key: 'case', ...options });
  const config = parseCaseConfig(reader);
  reader.assertNoUnknownKeys();
  return config;
}
