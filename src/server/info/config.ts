/** The `info` section: what GET /api/info answers and whether it needs a login. */
import type { ConfigReader } from '../../helper/config.js';

/** The parsed `info` section. */
export interface FusionInfoConfig {
  /** Require authorization ('retrieve_info') instead of answering everyone. */
  authRequired: boolean;
  /** Service name served as Info.api (default when mounted from config: 'fusion'). */
  api?: string;
  /** Service version served as Info.version (default: the framework's version). */
  version?: string;
}

/** Parses the `info` section; throws ConfigError naming the bad key. */
export function parseInfoConfig(reader: ConfigReader): FusionInfoConfig {
  return {
    authRequired: reader.boolean('auth_required', { default: false }),
    api: reader.optionalString('api', { minLength: 1 }),
    version: reader.optionalString('version', { minLength: 1 }),
  };
}
