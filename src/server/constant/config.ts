/** The `constant` section: the file GET /api/constant serves and whether it needs a login. */
import type { ConfigReader } from '../../helper/config.js';

/** The parsed `constant` section. */
export interface FusionConstantConfig {
  /** Absolute path of the JSON/YAML file holding the Constant (relative paths resolve against the config file). */
  path: string;
  /** Require authorization ('retrieve_constant') instead of answering everyone. */
  authRequired: boolean;
}

/** Parses the `constant` section; throws ConfigError naming the bad key. */
export function parseConstantConfig(reader: ConfigReader): FusionConstantConfig {
  const path = reader.filePath('path');
  if (!/\.(json|ya?ml)$/i.test(path)) throw reader.error('path', `expected a .json, .yaml or .yml file, got ${JSON.stringify(path)}`);
  return { path, authRequired: reader.boolean('auth_required', { default: false }) };
}
