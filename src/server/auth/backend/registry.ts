/**
 * Backend strategies by name: each registers how to read its `auth.backend.<strategy>` section
 * and how to build the backend from what it read. `basic`, `oidc` and `keycloak` are registered here.
 */
import type { ConfigReader } from '../../../helper/config.js';
import type { FusionAuthBackend } from './backend.js';
import { basicAuthBackendFactory } from './basic.js';
import { lazyOidcAuthBackendFactory } from './oidc-factory.js';

/** How to build one strategy's backend: parse its config section, then create it. */
export interface AuthBackendFactory<O = unknown> {
  /** Reads `auth.backend.<strategy>` (an empty reader when absent); throws ConfigError. */
  parseConfig(reader: ConfigReader): O;
  /** Builds the backend from the parsed options (a promise of it when the backend's modules are imported on demand). */
  create(options: O): FusionAuthBackend | Promise<FusionAuthBackend>;
}

const factories = new Map<string, AuthBackendFactory>();

/** Registers (or replaces) the backend for `strategy`; call before the config is parsed. */
export function registerAuthBackend<O>(strategy: string, factory: AuthBackendFactory<O>): void {
  if (!/^[a-z][a-z0-9_]*$/.test(strategy)) {
    throw new TypeError(`registerAuthBackend: strategy must be snake_case, got ${JSON.stringify(strategy)}`);
  }
  if (typeof factory?.parseConfig !== 'function' || typeof factory.create !== 'function') {
    throw new TypeError('registerAuthBackend: factory needs parseConfig(reader) and create(options)');
  }
  factories.set(strategy, factory as AuthBackendFactory);
}

/** Names of the registered strategies. */
export function authBackendStrategies(): string[] {
  return [...factories.keys()].sort();
}

/** Reads `auth.backend`: `strategy` (default `basic`) and that strategy's own section. */
export function parseAuthBackendConfig(reader: ConfigReader): { strategy: string; options: unknown } {
  const strategy = reader.string('strategy', { default: 'basic', minLength: 1 });
  const factory = factories.get(strategy);
  if (factory === undefined) {
    const known = authBackendStrategies().map((s) => JSON.stringify(s)).join(', ');
    throw reader.error('strategy', `unknown strategy ${JSON.stringify(strategy)}; registered: ${known} (registerAuthBackend adds one)`);
  }
  return { strategy, options: factory.parseConfig(reader.section(strategy)) };
}

/**
 * Builds the backend `config` names, with the options parsed by its factory: the backend itself
 * when the factory creates it synchronously (`basic`), else a promise of it (`oidc`, `keycloak`).
 */
export function createAuthBackend(config: { strategy: string; options: unknown }): FusionAuthBackend | Promise<FusionAuthBackend> {
  const factory = factories.get(config.strategy);
  if (factory === undefined) {
    throw new TypeError(`createAuthBackend: no backend registered for strategy ${JSON.stringify(config.strategy)}`);
  }
  return factory.create(config.options);
}

registerAuthBackend('basic', basicAuthBackendFactory);
// Imported only when created (oidc-factory.ts): a basic server never loads the OIDC libraries.
registerAuthBackend('oidc', lazyOidcAuthBackendFactory('oidc'));
registerAuthBackend('keycloak', lazyOidcAuthBackendFactory('keycloak'));
