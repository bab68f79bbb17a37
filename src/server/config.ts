/**
 * The server configuration: one YAML or JSON document, snake_case keys, one section per module.
 * `loadConfig` reads it, each API's `parse<X>Config` reads its section, and any key nothing
 * read fails with a ConfigError naming it. Secrets may come from the environment: wherever a
 * value is expected, write `{ env: NAME }` (see src/helper/config.ts).
 */
import { dirname, resolve } from 'node:path';
import { ConfigError, ConfigReader } from '../helper/config.js';
import { loadFile } from '../helper/serializing.js';
import { isFusionError } from '../helper/errors.js';
import { parseAuthConfig } from './auth/config.js';
import type { FusionAuthConfig } from './auth/config.js';
import { parseCaseConfig } from './case/config.js';
import type { FusionCaseConfig } from './case/config.js';
import { parseConstantConfig } from './constant/config.js';
import type { FusionConstantConfig } from './constant/config.js';
import { parseDownloadConfig } from './download/config.js';
import type { FusionDownloadConfig } from './download/config.js';
import { parseInfoConfig } from './info/config.js';
import type { FusionInfoConfig } from './info/config.js';

/** `server`: where to listen and how to treat requests. */
export interface FusionServerConfig {
  host: string;
  port: number;
  /** Largest accepted request body, in bytes (edf_fusion / aiohttp `client_max_size`). */
  clientMaxSize: number;
  /** fastify `trustProxy`: true, false, a hop count, or addresses/CIDRs of trusted proxies. */
  trustProxy: boolean | number | string[];
  /** pino level; when absent, FUSION_DEBUG decides (see helper/logging.ts levelFromEnv). */
  logLevel?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Log one line per request and response (fastify's request logging). */
  logRequests: boolean;
  /** Serve the OpenAPI document (/api/openapi.json) and its UI (/api/docs). */
  docs: boolean;
  /** Seconds a signal-triggered shutdown may take before the process exits anyway. */
  shutdownTimeout: number;
  /** `request_timeout`: seconds a whole request (headers and body) may take to arrive, else 408; 0: no limit. */
  requestTimeout: number;
  /** `body_idle_timeout`: seconds a request body may pause (no byte received) before a 408; 0: no limit. */
  bodyIdleTimeout: number;
}

/** `storage`: where concepts, sessions and events live. */
export interface FusionStorageConfig {
  /** `postgres://...`, `pglite://DIR` or `memory://`. */
  url: string;
  /** PostgreSQL schema holding the tables (created by migrate when missing). */
  schema?: string;
  /** Most connections of the postgres:// pool. */
  poolMax?: number;
}

/** `service`: what the service adds to the framework. */
export interface FusionServiceConfig {
  /** Module (JS, or TS under a loader such as tsx) whose default export is a FusionServiceModule; absolute once parsed. */
  module?: string;
}

/** A parser for one section, given a reader scoped to it (errors carry the full key path). */
export type SectionParser<T = unknown> = (reader: ConfigReader) => T;

/** The parsed configuration. Optional sections are undefined when absent from the document. */
export interface FusionConfig {
  server: FusionServerConfig;
  storage: FusionStorageConfig;
  auth?: FusionAuthConfig;
  info?: FusionInfoConfig;
  constant?: FusionConstantConfig;
  case?: FusionCaseConfig;
  download?: FusionDownloadConfig;
  service?: FusionServiceConfig;
  /** Raw sections of APIs (`case`, `download`, `event`, ...), by name, as in the document. */
  raw: Record<string, unknown>;
  /** Sections read by the `sections` parsers given to loadConfig (a service's own), by name. */
  extra: Record<string, unknown>;
  /** Directory relative paths were resolved against (the config file's, or cwd). */
  baseDir: string;
}

/** Options of loadConfig / parseConfig. */
export interface LoadConfigOptions {
  /** Parsers for a service's own sections; their results land in `config.extra`. */
  sections?: Record<string, SectionParser>;
  /** Environment for `{ env: NAME }` values; defaults to process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Base directory for relative paths when given an object (default: cwd). */
  baseDir?: string;
}

/**
 * Sections kept raw in `config.raw` (their APIs read and check them when built: a bad key
 * still fails at start with a ConfigError naming it); `case` and `download` are parsed here too.
 */
const RAW_SECTIONS = ['case', 'download', 'event', 'rpc', 'cloud', 'tasks', 'synchronizer', 'analyzers', 'tcp', 'metrics', 'telemetry'] as const;

const BUILTIN_SECTIONS: readonly string[] = ['server', 'storage', 'auth', 'info', 'constant', 'service', ...RAW_SECTIONS];

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Default `storage.url`: embedded PostgreSQL in `.data/storage` under the config's directory. */
export const DEFAULT_STORAGE_URL = 'pglite://.data/storage';

/** Parses the `server` section. */
export function parseServerConfig(reader: ConfigReader): FusionServerConfig {
  return {
    host: reader.string('host', { default: '127.0.0.1', minLength: 1 }),
    port: reader.integer('port', { default: 8080, min: 0, max: 65535 }),
    clientMaxSize: reader.integer('client_max_size', { default: 1024 * 1024, min: 1 }),
    trustProxy: parseTrustProxy(reader),
    logLevel: reader.has('log_level') ? reader.oneOf('log_level', LOG_LEVELS) : undefined,
    logRequests: reader.boolean('log_requests', { default: true }),
    docs: reader.boolean('docs', { default: true }),
    shutdownTimeout: reader.number('shutdown_timeout', { default: 10, min: 0 }),
    requestTimeout: reader.number('request_timeout', { default: 300, min: 0 }),
    bodyIdleTimeout: reader.number('body_idle_timeout', { default: 30, min: 0 }),
  };
}

function parseTrustProxy(reader: ConfigReader): boolean | number | string[] {
  const raw = reader.raw('trust_proxy');
  if (raw === undefined || raw === null) return false;
  if (typeof raw === 'boolean') return raw;
  if (typeof raw === 'number') return reader.integer('trust_proxy', { min: 0 });
  if (typeof raw === 'string') return raw.split(',').map((s) => s.trim()).filter(Boolean);
  if (Array.isArray(raw)) return reader.stringList('trust_proxy', { minLength: 1 });
  throw reader.error('trust_proxy', 'expected true, false, a hop count, or a list of proxy addresses/CIDRs');
}

/** Parses the `service` section (`module` resolved against the config's directory). */
export function parseServiceConfig(reader: ConfigReader): FusionServiceConfig {
  const module = reader.optionalString('module', { minLength: 1 });
  if (module === undefined) return {};
  // './x.js' and '../x.ts' are files beside the config; anything else is a path or a package name as given.
  return { module: module.startsWith('.') ? reader.filePath('module') : module };
}

/** Checks a storage URL as `storage.url` is checked; `where` names its origin in the error. */
function checkStorageUrl(url: string, where: string): string {
  if (!/^(postgres|postgresql|pglite|memory):\/\//.test(url)) {
    throw new ConfigError(where, `expected postgres://..., pglite://DIR or memory://, got ${JSON.stringify(url.slice(0, 40))}`);
  }
  return url;
}

/**
 * Returns `config` with `storage.url` replaced by `url` (the `--storage-url` flag or
 * `FUSION_STORAGE_URL`); undefined or empty leaves it unchanged. A bad URL throws ConfigError.
 */
export function withStorageUrl(config: FusionConfig, url: string | undefined, where = 'storage.url'): FusionConfig {
  if (url === undefined || url === '') return config;
  return { ...config, storage: { ...config.storage, url: checkStorageUrl(url, where) } };
}

/** Parses the `storage` section (a relative `pglite://DIR` resolves against the config's directory when opened). */
export function parseStorageConfig(reader: ConfigReader): FusionStorageConfig {
  const url = reader.string('url', { default: DEFAULT_STORAGE_URL, minLength: 1 });
  if (!/^(postgres|postgresql|pglite|memory):\/\//.test(url)) {
    throw reader.error('url', 'expected postgres://..., pglite://DIR or memory://');
  }
  return {
    url,
    schema: reader.optionalString('schema', { minLength: 1 }),
    poolMax: reader.optionalInteger('pool_max', { min: 1 }),
  };
}

/** Parses a configuration document already in memory; throws ConfigError naming the bad key. */
export function parseConfig(data: unknown, options: LoadConfigOptions = {}): FusionConfig {
  const baseDir = options.baseDir ?? process.cwd();
  const root = new ConfigReader(data, { env: options.env, baseDir });
  const present = new Set(root.keys());
  // A section written with no value (`case:` in YAML, null) is present: it mounts its API with defaults.
  const optional = <T>(key: string, parse: SectionParser<T>): T | undefined =>
    present.has(key) ? parse(root.section(key)) : undefined;
  const config: FusionConfig = {
    server: parseServerConfig(root.section('server')),
    storage: parseStorageConfig(root.section('storage')),
    auth: optional('auth', parseAuthConfig),
    info: optional('info', parseInfoConfig),
    constant: optional('constant', parseConstantConfig),
    case: optional('case', parseCaseConfig),
    download: optional('download', parseDownloadConfig),
    service: optional('service', parseServiceConfig),
    raw: {},
    extra: {},
    baseDir,
  };
  for (const key of RAW_SECTIONS) {
    if (!present.has(key)) continue;
    // Sections with a parser above were read (and checked) already; the rest are kept unchecked.
    config.raw[key] = root.raw(key) ?? {};
  }
  for (const [key, parse] of Object.entries(options.sections ?? {})) {
    if (BUILTIN_SECTIONS.includes(key)) {
      throw new TypeError(`loadConfig: section '${key}' is a built-in section; give a service's own section another name`);
    }
    config.extra[key] = parse(root.section(key));
  }
  root.assertNoUnknownKeys();
  return config;
}

/** Reads a .yaml/.yml/.json config file unparsed, with the directory its relative paths resolve against. */
export async function readConfigDocument(source: string): Promise<{ data: unknown; baseDir: string }> {
  const path = resolve(source);
  try {
    return { data: await loadFile(path), baseDir: dirname(path) };
  } catch (error) {
    const message = isFusionError(error) ? error.message : String(error);
    throw new ConfigError('', `cannot load ${path}: ${message}`, { cause: error });
  }
}

/** Reads the configuration from a .yaml/.yml/.json file (or takes an object) and parses it. */
export async function loadConfig(source: string | Record<string, unknown>, options: LoadConfigOptions = {}): Promise<FusionConfig> {
  if (typeof source !== 'string') return parseConfig(source, options);
  const { data, baseDir } = await readConfigDocument(source);
  return parseConfig(data, { ...options, baseDir: options.baseDir ?? baseDir });
}
