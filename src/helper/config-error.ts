/** ConfigError, and how configuration values are shown in its messages. */
import { FusionError } from './errors.js';

/** A configuration value that is missing, mistyped or out of range; `key` is its dotted path. */
export class ConfigError extends FusionError {
  /** Dotted key path of the bad value, e.g. `auth.backend.basic.users[0].digest`. */
  readonly key: string;

  constructor(key: string, problem: string, options?: { cause?: unknown }) {
    super('FUSION_ERR_CONFIG', `${key || 'config'}: ${problem}`, options);
    this.name = 'ConfigError';
    this.key = key;
  }
}

/** True for a plain mapping (not a list, not null). */
export function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A short, safe rendering of a configuration value for error messages. */
export function describeConfigValue(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (isMapping(value)) return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  return String(value);
}
