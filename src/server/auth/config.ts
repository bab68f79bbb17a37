/**
 * The `auth` section: backend strategy and its options, API clients, who may delete, the
 * session cookie and login rate limits. Keys as edf_fusion (`auth.backend.strategy`,
 * `auth.clients[].{name,key}`, `auth.can_delete_acs`, `auth.cookie.*`) plus `auth.rate_limit.*`.
 */
import type { ConfigReader } from '../../helper/config.js';
import type { ApiClient } from './api-keys.js';
import type { CookieAttributes } from './cookie.js';
import { isCookieAttributeValue, isCookieName } from './cookie.js';
import { parseAuthBackendConfig } from './backend/registry.js';

/** Shortest API key accepted: keys are bearer secrets and must not be guessable. */
export const MIN_API_KEY_LENGTH = 16;

/** `auth.backend`: the strategy name and the options its factory parsed from `auth.backend.<strategy>`. */
export interface FusionAuthBackendConfig {
  strategy: string;
  options: unknown;
}

/** `auth.rate_limit`: failed logins allowed per sliding window, per client address and per username. */
export interface FusionAuthRateLimitConfig {
  /** Window length in seconds. */
  window: number;
  /** Attempts per client address and window; 0 disables this limit. */
  maxPerClient: number;
  /** Attempts per (username, client address) and window; 0 disables this limit. */
  maxPerUsername: number;
  /** Failed logins per username per window from all addresses together (0: off): high, so no one attacker locks a user out. */
  maxPerUsernameGlobal: number;
  /** Failures per (username, client address) before the exponential backoff starts waiting. */
  backoffAfter: number;
  /** First backoff wait in seconds, doubling with each further failure; 0 disables the backoff. */
  backoffBase: number;
  /** Longest backoff wait in seconds. */
  backoffMax: number;
}

/** `auth.cookie`: the session cookie (`secret_key` is accepted for edf_fusion configs and unused). */
export type FusionAuthCookieConfig = CookieAttributes;

/** The parsed `auth` section. */
export interface FusionAuthConfig {
  backend: FusionAuthBackendConfig;
  clients: ApiClient[];
  /** Groups or usernames allowed to run delete operations; empty (the default) means nobody. */
  canDeleteAcs: string[];
  cookie: FusionAuthCookieConfig;
  rateLimit: FusionAuthRateLimitConfig;
}

/** Parses the `auth` section; throws ConfigError naming the bad key. */
export function parseAuthConfig(reader: ConfigReader): FusionAuthConfig {
  // edf_fusion seals its session cookie (iron format) with iron_key; sessions live in storage here.
  reader.optionalString('iron_key', { secret: true });
  return {
    backend: parseAuthBackendConfig(reader.section('backend')),
    clients: parseClients(reader),
    canDeleteAcs: [...new Set(reader.stringList('can_delete_acs', { minLength: 1 }))].sort(),
    cookie: parseCookie(reader.section('cookie')),
    rateLimit: parseRateLimit(reader.section('rate_limit')),
  };
}

function parseClients(reader: ConfigReader): ApiClient[] {
  const names = new Set<string>();
  const keys = new Set<string>();
  return reader.list('clients').map((item) => {
    const name = item.string('name', { minLength: 1 });
    const key = item.string('key', { minLength: 1, secret: true });
    if (key.length < MIN_API_KEY_LENGTH) {
      throw item.error('key', `must be at least ${MIN_API_KEY_LENGTH} characters (make one with: openssl rand -base64 32)`);
    }
    if (names.has(name)) throw item.error('name', `client ${JSON.stringify(name)} is listed twice`);
    if (keys.has(key)) throw item.error('key', 'this key is already given to another client: give each client its own');
    names.add(name);
    keys.add(key);
    return { name, key };
  });
}

function parseCookie(reader: ConfigReader): FusionAuthCookieConfig {
  const name = reader.string('name', { default: 'FUSION_SESSION', minLength: 1 });
  if (!isCookieName(name)) throw reader.error('name', `${JSON.stringify(name)} is not a valid cookie name`);
  const domain = reader.optionalString('domain', { minLength: 1 }) ?? null;
  if (domain !== null && !isCookieAttributeValue(domain)) throw reader.error('domain', 'must not hold ";", "," or control characters');
  const path = reader.string('path', { default: '/', pattern: /^\// });
  if (!isCookieAttributeValue(path)) throw reader.error('path', 'must not hold ";", "," or control characters');
  const maxAge = reader.integer('max_age', { default: 43_200, min: 60 });
  const secure = reader.boolean('secure', { default: true });
  const httpOnly = reader.boolean('httponly', { default: true });
  const sameSite = parseSameSite(reader);
  if (sameSite === 'none' && !secure) throw reader.error('samesite', '"none" requires secure: true (browsers drop such cookies)');
  reader.optionalString('secret_key', { secret: true }); // edf_fusion's cookie encryption key: sessions live in storage here.
  return { name, domain, path, maxAge, secure, httpOnly, sameSite };
}

const SAME_SITE = ['strict', 'lax', 'none'] as const;

/** `samesite`: Strict, Lax or None in any case (aiohttp configs write them capitalized). */
function parseSameSite(reader: ConfigReader): FusionAuthCookieConfig['sameSite'] {
  const text = reader.string('samesite', { default: 'lax', minLength: 1 }).toLowerCase();
  const found = SAME_SITE.find((choice) => choice === text);
  if (found === undefined) throw reader.error('samesite', `expected one of Strict, Lax, None, got ${JSON.stringify(text)}`);
  return found;
}

function parseRateLimit(reader: ConfigReader): FusionAuthRateLimitConfig {
  return {
    window: reader.number('window', { default: 300, min: 1 }),
    maxPerClient: reader.integer('max_per_client', { default: 20, min: 0 }),
    maxPerUsername: reader.integer('max_per_username', { default: 10, min: 0 }),
    maxPerUsernameGlobal: reader.integer('max_per_username_global', { default: 200, min: 0 }),
    ...parseBackoff(reader),
  };
}

function parseBackoff(reader: ConfigReader): Pick<FusionAuthRateLimitConfig, 'backoffAfter' | 'backoffBase' | 'backoffMax'> {
  const backoffAfter = reader.integer('backoff_after', { default: 3, min: 0 });
  const backoffBase = reader.number('backoff_base', { default: 1, min: 0 });
  const backoffMax = reader.number('backoff_max', { default: 900, min: 0 });
  if (backoffMax < backoffBase) throw reader.error('backoff_max', `must be at least backoff_base (${backoffBase})`);
  return { backoffAfter, backoffBase, backoffMax };
}
