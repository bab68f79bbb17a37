/**
 * The service module: what one service adds to the framework (its APIs, Case class, migrations,
 * config sections, and a `setup` that registers RPC methods, tasks or analyzers on the mounted
 * APIs). The config's `service.module` names it, so `fusion serve`, `fusion task` and
 * `fusion analyzer` build the same service from one config file.
 */
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../helper/config-error.js';
import type { FusionAnalyzer } from './analyzer/analyzer.js';
import type { FusionAPI } from './api.js';
import { parseConfig, readConfigDocument, withStorageUrl } from './config.js';
import type { FusionConfig, SectionParser } from './config.js';
import type { FusionHost } from './host.js';
import type { CaseClass } from './storage/storage.js';
import type { StorageMigration } from './storage/migrations.js';
import type { FusionTask } from './task/task.js';

/** What a service module exports (as its default export, or as `service`). */
export interface FusionServiceModule {
  /** Parsers of the service's own config sections (results in `config.extra`). */
  sections?: Record<string, SectionParser>;
  /** The service's APIs; one named like a built-in replaces it. A function gets the parsed config. */
  apis?: readonly FusionAPI[] | ((config: FusionConfig) => readonly FusionAPI[] | Promise<readonly FusionAPI[]>);
  /** The Case subclass cases are decoded with. */
  caseClass?: CaseClass;
  /** The service's migrations, applied after the framework's. */
  migrations?: readonly StorageMigration[];
  /**
   * The service's tasks: `fusion task NAME` runs one of them; `fusion serve` also runs those
   * flagged `serve: true`. A function gets the parsed config.
   */
  tasks?: readonly FusionTask[] | ((config: FusionConfig) => readonly FusionTask[] | Promise<readonly FusionTask[]>);
  /** The service's analyzers: registered on the analysis API; `fusion analyzer NAME` runs one's workers. */
  analyzers?: readonly FusionAnalyzer[] | ((config: FusionConfig) => readonly FusionAnalyzer[] | Promise<readonly FusionAnalyzer[]>);
  /** Runs once the APIs are mounted, before start: register RPC methods, tasks, analyzers, routes. */
  setup?(host: FusionHost): void | Promise<void>;
}

/** Declares a service module (an identity function that gives the object its type). */
export function defineService<M extends FusionServiceModule>(module: M): M {
  return module;
}

/** Imports the module `specifier` (a path or a package name) and returns its FusionServiceModule. */
export async function loadServiceModule(specifier: string): Promise<FusionServiceModule> {
  const target = isAbsolute(specifier) ? pathToFileURL(specifier).href : specifier;
  let loaded: Record<string, unknown>;
  try {
    loaded = (await import(target)) as Record<string, unknown>;
  } catch (error) {
    const hint = /\.ts$/.test(specifier) ? ' (a .ts module needs a loader: run node with --import tsx, or build it to .js)' : '';
    throw new ConfigError('service.module', `cannot import ${specifier}: ${(error as Error).message}${hint}`, { cause: error });
  }
  const found = loaded.default ?? loaded.service;
  if (typeof found !== 'object' || found === null) {
    throw new ConfigError('service.module', `${specifier} has no default export (or export 'service'): export defineService({...})`);
  }
  return found as FusionServiceModule;
}

/** Options of loadServiceConfig. */
export interface LoadServiceConfigOptions {
  /** Replaces `storage.url` (the `--storage-url` flag); default: `FUSION_STORAGE_URL` from `env`. */
  storageUrl?: string;
  /** Environment for `{ env: NAME }` values and `FUSION_STORAGE_URL`; default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
}

/** A parsed config with the service module it names (an empty module when it names none). */
export interface LoadedService {
  config: FusionConfig;
  module: FusionServiceModule;
}

/**
 * Reads a config file, imports its `service.module` (whose sections it then parses), and applies
 * the storage override: the flag, else `FUSION_STORAGE_URL`, else the file's `storage.url`.
 */
export async function loadServiceConfig(path: string, options: LoadServiceConfigOptions = {}): Promise<LoadedService> {
  const env = options.env ?? process.env;
  const { data, baseDir } = await readConfigDocument(path);
  // Parse once without the service's sections to find and check `service.module`.
  const hasService = typeof data === 'object' && data !== null && Object.hasOwn(data, 'service');
  const serviceOnly = parseConfig(hasService ? { service: (data as Record<string, unknown>).service } : {}, { env, baseDir });
  const specifier = serviceOnly.service?.module;
  const module = specifier === undefined ? {} : await loadServiceModule(specifier);
  let config = parseConfig(data, { env, baseDir, ...(module.sections ? { sections: module.sections } : {}) });
  const fromEnv = env.FUSION_STORAGE_URL;
  config = withStorageUrl(config, fromEnv, 'FUSION_STORAGE_URL');
  config = withStorageUrl(config, options.storageUrl, '--storage-url');
  return { config, module };
}

/** The tasks and analyzers a service module declares (its functions called with `config`). */
export async function serviceWorkers(module: FusionServiceModule, config: FusionConfig): Promise<{ tasks: readonly FusionTask[]; analyzers: readonly FusionAnalyzer[] }> {
  const tasks = typeof module.tasks === 'function' ? await module.tasks(config) : (module.tasks ?? []);
  const analyzers = typeof module.analyzers === 'function' ? await module.analyzers(config) : (module.analyzers ?? []);
  return { tasks, analyzers };
}
