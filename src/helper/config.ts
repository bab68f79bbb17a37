/**
 * Reads snake_case configuration sections with key paths in every error. Secrets: wherever a
 * scalar is expected, the file may hold `{ env: NAME }` instead; the value then comes from
 * environment variable NAME, which must be set and non-empty, unless the reference gives a
 * fallback: `{ env: NAME, default: VALUE }` (VALUE null: as if the key were absent).
 */
import { resolve } from 'node:path';
import { ConfigError, describeConfigValue, isMapping } from './config-error.js';
import { loadSslConfig } from './ssl-config.js';
import type { SslConfig } from './ssl-config.js';

export { ConfigError } from './config-error.js';
export { loadSslConfig } from './ssl-config.js';
export type { SslConfig } from './ssl-config.js';

/** Options of a ConfigReader. */
export interface ConfigReaderOptions {
  /** Key path of the value read (prefix of every error key), e.g. `auth`. */
  key?: string;
  /** Environment for `{ env: NAME }` values; defaults to `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Directory relative paths are resolved against (the config file's); defaults to cwd. */
  baseDir?: string;
}

/** A scalar as read: its value, and where it came from when not written in the file itself. */
interface Found {
  value: unknown;
  /** The variable named by `{ env: NAME }`. */
  env?: string;
  /** True when the variable was unset and `default` was used. */
  fromDefault?: boolean;
}

interface Bounds {
  min?: number;
  max?: number;
}

/** Options of `ConfigReader.string`. */
export interface StringOptions {
  default?: string;
  minLength?: number;
  pattern?: RegExp;
  /** Keep the value out of error messages. */
  secret?: boolean;
}

/** Typed, key-path-aware access to one mapping of a configuration document. */
export class ConfigReader {
  readonly #data: Record<string, unknown>;
  readonly #key: string;
  readonly #env: Readonly<Record<string, string | undefined>>;
  readonly #baseDir: string;
  readonly #known = new Set<string>();
  readonly #children = new Map<string, ConfigReader | ConfigReader[]>();

  constructor(value: unknown, options: ConfigReaderOptions = {}) {
    this.#key = options.key ?? '';
    this.#env = options.env ?? process.env;
    this.#baseDir = options.baseDir ?? process.cwd();
    if (value === undefined || value === null) value = {};
    if (!isMapping(value)) throw new ConfigError(this.#key, `expected a mapping, got ${describeConfigValue(value)}`);
    this.#data = value;
  }

  /** Dotted path of `key` in this section, as used in error messages. */
  keyOf(key: string): string {
    return this.#key ? `${this.#key}.${key}` : key;
  }

  /** A ConfigError for `key` (for checks the reader does not do itself). */
  error(key: string, problem: string): ConfigError {
    return new ConfigError(this.keyOf(key), problem);
  }

  /** True when `key` is present and not null. */
  has(key: string): boolean {
    this.#known.add(key);
    return this.#data[key] !== undefined && this.#data[key] !== null;
  }

  /** The raw value of `key`, unchecked (its sub-keys are not checked for typos either). */
  raw(key: string): unknown {
    this.#known.add(key);
    return this.#data[key];
  }

  /** Keys present in this section. */
  keys(): string[] {
    return Object.keys(this.#data);
  }

  /** A required string, or `options.default` when absent. */
  string(key: string, options: StringOptions = {}): string {
    const value = this.optionalString(key, options);
    if (value === undefined) throw this.error(key, 'is required');
    return value;
  }

  /** A string, or undefined when absent (and no default). */
  optionalString(key: string, options: StringOptions = {}): string | undefined {
    const found = this.#scalar(key);
    if (found === undefined) return options.default;
    const { value } = found;
    const min = options.minLength ?? 0;
    const ok = typeof value === 'string' && value.length >= min && (!options.pattern || options.pattern.test(value));
    if (!ok) {
      const what = options.pattern ? `a string matching ${options.pattern}` : min > 0 ? 'a non-empty string' : 'a string';
      throw this.#bad(key, what, found, options.secret);
    }
    return value;
  }

  /** A required integer within bounds, or `options.default` when absent. */
  integer(key: string, options: Bounds & { default?: number } = {}): number {
    const value = this.optionalInteger(key, options);
    if (value === undefined) throw this.error(key, 'is required');
    return value;
  }

  /** An integer within bounds, or undefined when absent (and no default). */
  optionalInteger(key: string, options: Bounds & { default?: number } = {}): number | undefined {
    return this.#numeric(key, options, true);
  }

  /** A required number (e.g. seconds) within bounds, or `options.default` when absent. */
  number(key: string, options: Bounds & { default?: number } = {}): number {
    const value = this.optionalNumber(key, options);
    if (value === undefined) throw this.error(key, 'is required');
    return value;
  }

  /** A number within bounds, or undefined when absent (and no default). */
  optionalNumber(key: string, options: Bounds & { default?: number } = {}): number | undefined {
    return this.#numeric(key, options, false);
  }

  /** A required boolean, or `options.default` when absent. */
  boolean(key: string, options: { default?: boolean } = {}): boolean {
    const value = this.optionalBoolean(key, options);
    if (value === undefined) throw this.error(key, 'is required');
    return value;
  }

  /** A boolean, or undefined when absent (and no default). From the environment: true/false/1/0/yes/no. */
  optionalBoolean(key: string, options: { default?: boolean } = {}): boolean | undefined {
    const found = this.#scalar(key);
    if (found === undefined) return options.default;
    let { value } = found;
    if (found.env !== undefined && typeof value === 'string') {
      const word = value.toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(word)) value = true;
      if (['false', '0', 'no', 'off'].includes(word)) value = false;
    }
    if (typeof value !== 'boolean') throw this.#bad(key, 'true or false', found);
    return value;
  }

  /** One of `choices` (required unless a default is given). */
  oneOf<T extends string>(key: string, choices: readonly T[], options: { default?: T } = {}): T {
    const found = this.#scalar(key);
    if (found === undefined) {
      if (options.default === undefined) throw this.error(key, 'is required');
      return options.default;
    }
    if (!choices.includes(found.value as T)) {
      const hint = typeof found.value === 'string' ? closest(found.value, choices) : undefined;
      const what = `one of ${choices.map((c) => JSON.stringify(c)).join(', ')}`;
      throw this.#bad(key, what, found, false, hint && `did you mean \`${hint}\`?`);
    }
    return found.value as T;
  }

  /** A list of strings; `options.default` (or []) when absent. */
  stringList(key: string, options: { default?: string[]; minLength?: number } = {}): string[] {
    const raw = this.raw(key);
    if (raw === undefined || raw === null) return [...(options.default ?? [])];
    if (!Array.isArray(raw)) throw this.error(key, `expected a list of strings, got ${describeConfigValue(raw)}`);
    return raw.map((item: unknown, index) => {
      const found = this.#resolveEnv(`${key}[${index}]`, item);
      if (typeof found.value !== 'string' || found.value.length < (options.minLength ?? 0)) {
        throw this.#bad(`${key}[${index}]`, options.minLength ? 'a non-empty string' : 'a string', found);
      }
      return found.value;
    });
  }

  /** A file path resolved against the base directory, or `options.default` (also resolved). */
  filePath(key: string, options: { default?: string } = {}): string {
    return resolve(this.#baseDir, this.string(key, { ...options, minLength: 1 }));
  }

  /** TLS settings from `key` (see `loadSslConfig`); verify with system CAs when absent. */
  ssl(key: string): SslConfig {
    const found = this.#scalar(key);
    return loadSslConfig(found?.value, { key: this.keyOf(key), baseDir: this.#baseDir });
  }

  /** The mapping under `key` (empty when absent), as a reader whose errors carry the full path. */
  section(key: string): ConfigReader {
    return this.optionalSection(key) ?? new ConfigReader({}, { key: this.keyOf(key), env: this.#env, baseDir: this.#baseDir });
  }

  /** The mapping under `key`, or undefined when absent. */
  optionalSection(key: string): ConfigReader | undefined {
    if (!this.has(key)) return undefined;
    const cached = this.#children.get(key);
    if (cached instanceof ConfigReader) return cached;
    const reader = new ConfigReader(this.#data[key], { key: this.keyOf(key), env: this.#env, baseDir: this.#baseDir });
    this.#children.set(key, reader);
    return reader;
  }

  /** The list of mappings under `key` (empty when absent), one reader per item (`key[i]`). */
  list(key: string): ConfigReader[] {
    const cached = this.#children.get(key);
    if (Array.isArray(cached)) return cached;
    const raw = this.raw(key);
    if (raw === undefined || raw === null) return [];
    if (!Array.isArray(raw)) throw this.error(key, `expected a list, got ${describeConfigValue(raw)}`);
    const options = { env: this.#env, baseDir: this.#baseDir };
    const readers = raw.map((item: unknown, i) => new ConfigReader(item, { ...options, key: `${this.keyOf(key)}[${i}]` }));
    this.#children.set(key, readers);
    return readers;
  }

  /** Throws a ConfigError for the first key (here or in sections read) that nothing read. */
  assertNoUnknownKeys(): void {
    const [first, ...rest] = this.unknownKeys();
    if (first === undefined) return;
    const more = rest.length ? ` (also unknown: ${rest.map((u) => u.key).join(', ')})` : '';
    const hint = first.suggestion ? `did you mean \`${first.suggestion}\`?` : `known keys: ${first.known.join(', ') || 'none'}`;
    throw new ConfigError(first.key, `unknown key, ${hint}${more}`);
  }

  /** Keys present in the document that nothing read, with the closest known key if any. */
  unknownKeys(): { key: string; suggestion: string | undefined; known: string[] }[] {
    const known = [...this.#known].sort();
    const found = this.keys()
      .filter((key) => !this.#known.has(key))
      .map((key) => ({ key: this.keyOf(key), suggestion: closest(key, known), known }));
    for (const child of this.#children.values()) {
      for (const reader of Array.isArray(child) ? child : [child]) found.push(...reader.unknownKeys());
    }
    return found;
  }

  #numeric(key: string, bounds: Bounds & { default?: number }, integer: boolean): number | undefined {
    const found = this.#scalar(key);
    if (found === undefined) return bounds.default;
    let { value } = found;
    if (found.env !== undefined && typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value.trim())) {
      value = Number(value);
    }
    const { min, max } = bounds;
    const ok =
      typeof value === 'number' &&
      Number.isFinite(value) &&
      (!integer || Number.isInteger(value)) &&
      (min === undefined || value >= min) &&
      (max === undefined || value <= max);
    if (!ok) throw this.#bad(key, describeBounds(integer ? 'integer' : 'number', min, max), found);
    return value as number;
  }

  /** The value of `key` with `{ env: NAME }` resolved; undefined when absent or null (or a null default used). */
  #scalar(key: string): Found | undefined {
    const raw = this.raw(key);
    if (raw === undefined || raw === null) return undefined;
    const found = this.#resolveEnv(key, raw);
    return found.value === null ? undefined : found;
  }

  /**
   * `{ env: NAME }` or `{ env: NAME, default: VALUE }` resolved: the variable's value, else the
   * default (parsed like a variable's value; null: as if the key were absent), else an error.
   */
  #resolveEnv(key: string, raw: unknown): Found {
    if (!isMapping(raw) || typeof raw.env !== 'string') return { value: raw };
    const extra = Object.keys(raw).filter((k) => k !== 'env' && k !== 'default');
    if (extra.length > 0) {
      const hint = closest(extra[0]!, ['default']);
      throw this.error(key, `{ env: ${raw.env} } takes only \`default\` besides \`env\`, got \`${extra[0]}\`${hint ? `; did you mean \`${hint}\`?` : ''}`);
    }
    const value = this.#env[raw.env];
    if (value !== undefined && value !== '') return { value, env: raw.env };
    if (!Object.hasOwn(raw, 'default')) {
      throw this.error(key, `environment variable ${raw.env} is not set (the file says { env: ${raw.env} })`);
    }
    const fallback = raw.default;
    if (fallback !== null && !['string', 'number', 'boolean'].includes(typeof fallback)) {
      throw this.error(key, `the default of { env: ${raw.env} } must be a string, a number, a boolean or null, got ${describeConfigValue(fallback)}`);
    }
    return { value: fallback, env: raw.env, fromDefault: true };
  }

  #bad(key: string, what: string, found: Found, secret = false, hint?: string): ConfigError {
    const shown = secret ? `a ${typeOf(found.value)} (hidden)` : describeConfigValue(found.value);
    const from =
      found.env === undefined ? '' : found.fromDefault ? ` (the default of { env: ${found.env} }, which is not set)` : ` from environment variable ${found.env}`;
    return this.error(key, `expected ${what}, got ${shown}${from}${hint ? `; ${hint}` : ''}`);
  }
}

function typeOf(value: unknown): string {
  return Array.isArray(value) ? 'list' : isMapping(value) ? 'mapping' : typeof value;
}

function describeBounds(kind: 'integer' | 'number', min?: number, max?: number): string {
  const article = kind === 'integer' ? 'an' : 'a';
  if (min !== undefined && max !== undefined) return `${article} ${kind} between ${min} and ${max}`;
  if (min === 1 && kind === 'integer') return 'a positive integer';
  if (min === 0) return `a non-negative ${kind}`;
  if (min !== undefined) return `${article} ${kind} >= ${min}`;
  if (max !== undefined) return `${article} ${kind} <= ${max}`;
  return `${article} ${kind}`;
}

/** The candidate closest to `word` (ignoring case, `_` and `-`), if close enough to be a typo. */
function closest(word: string, candidates: readonly string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[-_\s]/g, '');
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(norm(word), norm(candidate));
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  const allowed = word.length < 3 ? 0 : Math.max(1, Math.floor(word.length / 3));
  return bestDistance <= allowed ? best : undefined;
}

/** Edit distance counting a swap of two neighbours as one edit (optimal string alignment). */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : i)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}
