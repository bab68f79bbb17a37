/**
 * `auth.backend.oidc` / `auth.backend.keycloak`: where the identity provider is (a plain
 * `issuer`, or edf_fusion's Keycloak keys `url` + `realm_name` + `include_auth`), the client
 * (`client_id`, `client_secret`, `redirect_uri`), TLS (`verify`), and how tokens are checked.
 */
import type { ConfigReader, SslConfig } from '../../../../helper/config.js';
import { ephemeralTokenKey, parseTokenKey } from './token-cipher.js';

/** The flavour of the backend: the `type` GET /api/auth/config reports. */
export type OidcFlavor = 'oidc' | 'keycloak';

/** How this service authenticates to the token endpoint. */
export type OidcClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none';

/** The parsed options of an OIDC backend. */
export interface OidcAuthOptions {
  /** `keycloak` or `oidc` (the strategy name used). */
  flavor: OidcFlavor;
  /** The issuer identifier, exactly as the provider's tokens carry it in `iss`. */
  issuer: string;
  /** Base URL a front end gives its OIDC library (Keycloak: the server URL, with /auth when include_auth). */
  host: string;
  /** Keycloak realm, or null for a plain issuer. */
  realm: string | null;
  clientId: string;
  /** Null for a public client (PKCE only). */
  clientSecret: string | null;
  clientAuthMethod: OidcClientAuthMethod;
  /** Redirect URI of the authorization-code flow; null: bearer tokens only. */
  redirectUri: string | null;
  /** A bearer JWT's `aud` must hold one of these (default: the client id). */
  audience: string[];
  /** Claim holding the username (default `preferred_username`); a dotted path reaches nested claims. */
  usernameClaim: string;
  /** Claim holding the groups (default `groups`); a dotted path reaches nested claims (`realm_access.roles`). */
  groupsClaim: string;
  /** Seconds of clock difference tolerated on exp/nbf/iat. */
  clockTolerance: number;
  /** Accept `Authorization: Bearer` access tokens. */
  bearerTokens: boolean;
  /** Check opaque (non-JWT) bearer tokens at the introspection endpoint. */
  introspection: boolean;
  /** Refuse logins without a PKCE code_verifier. */
  requirePkce: boolean;
  /** Allow http:// provider URLs (tests, development). */
  allowInsecureHttp: boolean;
  /** TLS settings for calls to the provider. */
  tls: SslConfig;
  /** Seconds before a call to the provider is abandoned. */
  timeout: number;
  /** Seconds between discovery attempts while the provider cannot be reached. */
  discoveryRetry: number;
  /** Seconds after a key-set fetch before an unknown `kid` may trigger another one. */
  jwksCooldown: number;
  /** AES-256 keys sealing the session tokens at rest: the first seals, all open. */
  tokenKeys: Buffer[];
}

/** Reads `auth.backend.<flavor>`; throws ConfigError naming the bad key. */
export function parseOidcAuthConfig(reader: ConfigReader, flavor: OidcFlavor): OidcAuthOptions {
  const allowInsecureHttp = reader.boolean('allow_insecure_http', { default: false });
  const { issuer, host, realm } = parseLocation(reader, allowInsecureHttp);
  const clientId = reader.string('client_id', { minLength: 1 });
  const clientSecret = reader.optionalString('client_secret', { minLength: 1, secret: true }) ?? null;
  const clientAuthMethod = reader.oneOf<OidcClientAuthMethod>('client_auth_method', ['client_secret_basic', 'client_secret_post', 'none'], {
    default: clientSecret === null ? 'none' : 'client_secret_basic',
  });
  if (clientAuthMethod !== 'none' && clientSecret === null) {
    throw reader.error('client_secret', `is required with client_auth_method ${clientAuthMethod} (or set client_auth_method: none for a public client)`);
  }
  const redirectUri = reader.optionalString('redirect_uri', { minLength: 1 }) ?? null;
  if (redirectUri !== null) checkUrl(reader, 'redirect_uri', redirectUri, { allowHttp: true, allowQuery: false });
  const introspection = reader.boolean('introspection', { default: false });
  if (introspection && clientSecret === null) {
    throw reader.error('introspection', 'needs client_secret: the introspection endpoint only answers authenticated clients');
  }
  const tls = reader.ssl('verify');
  if (tls.fingerprint !== undefined) {
    throw reader.error('verify', 'certificate pinning (sha256:...) is not supported for the identity provider: give true, false or CA file path(s)');
  }
  return {
    flavor,
    issuer,
    host,
    realm,
    clientId,
    clientSecret,
    clientAuthMethod,
    redirectUri,
    audience: parseAudience(reader, clientId),
    usernameClaim: reader.string('username_claim', { default: 'preferred_username', minLength: 1 }),
    groupsClaim: reader.string('groups_claim', { default: 'groups', minLength: 1 }),
    clockTolerance: reader.number('clock_tolerance', { default: 30, min: 0, max: 300 }),
    bearerTokens: reader.boolean('bearer_tokens', { default: true }),
    introspection,
    requirePkce: reader.boolean('require_pkce', { default: false }),
    allowInsecureHttp,
    tls,
    timeout: reader.number('timeout', { default: 10, min: 0.1, max: 120 }),
    discoveryRetry: reader.number('discovery_retry', { default: 30, min: 0.1, max: 3600 }),
    jwksCooldown: reader.number('jwks_cooldown', { default: 30, min: 0, max: 3600 }),
    tokenKeys: parseTokenKeys(reader),
  };
}

/**
 * `token_keys`: base64 32-byte keys (each may be `{ env: NAME }`). Required outside tests
 * (NODE_ENV=test, as jest sets it): there a random key of the process stands in.
 */
function parseTokenKeys(reader: ConfigReader): Buffer[] {
  const raw = reader.raw('token_keys');
  const texts = typeof raw === 'string' || (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) ? [reader.string('token_keys', { secret: true })] : reader.stringList('token_keys');
  const keys = texts.map((text, index) => {
    const key = parseTokenKey(text);
    if (key === null) throw reader.error(`token_keys[${index}]`, 'expected 32 random bytes in base64 (make one with: openssl rand -base64 32)');
    return key;
  });
  if (keys.length > 0) return keys;
  if (process.env.NODE_ENV === 'test') return [ephemeralTokenKey()];
  throw reader.error('token_keys', 'is required: the OpenID Connect tokens of sessions are encrypted at rest with it (make one with: openssl rand -base64 32; give it as { env: NAME })');
}

/** `issuer`, or Keycloak's `url` + `realm_name` (+ `include_auth` for Keycloak before 17, whose paths start with /auth). */
function parseLocation(reader: ConfigReader, allowHttp: boolean): { issuer: string; host: string; realm: string | null } {
  const issuer = reader.optionalString('issuer', { minLength: 1 });
  const url = reader.optionalString('url', { minLength: 1 });
  const includeAuth = reader.boolean('include_auth', { default: false });
  if (issuer !== undefined) {
    if (url !== undefined || reader.has('realm_name')) {
      throw reader.error('issuer', 'give either issuer, or url and realm_name (Keycloak), not both');
    }
    checkUrl(reader, 'issuer', issuer, { allowHttp, allowQuery: false });
    return { issuer, host: issuer, realm: null };
  }
  if (url === undefined) throw reader.error('issuer', 'is required (or url and realm_name for Keycloak)');
  checkUrl(reader, 'url', url, { allowHttp, allowQuery: false });
  const realm = reader.string('realm_name', { minLength: 1 });
  const host = `${url.replace(/\/+$/, '')}${includeAuth ? '/auth' : ''}`;
  return { issuer: `${host}/realms/${encodeURIComponent(realm)}`, host, realm };
}

function checkUrl(reader: ConfigReader, key: string, value: string, options: { allowHttp: boolean; allowQuery: boolean }): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw reader.error(key, `expected an absolute http(s) URL, got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw reader.error(key, `expected an http(s) URL, got ${url.protocol}`);
  if (url.protocol === 'http:' && !options.allowHttp) {
    throw reader.error(key, 'uses http://: tokens would travel in clear; use https, or set allow_insecure_http: true (development only)');
  }
  if (!options.allowQuery && (url.search !== '' || url.hash !== '')) throw reader.error(key, 'must not hold a query (?...) or a fragment (#...)');
}

function parseAudience(reader: ConfigReader, clientId: string): string[] {
  const raw = reader.raw('audience');
  const list = Array.isArray(raw) || raw === undefined || raw === null ? reader.stringList('audience', { minLength: 1 }) : [reader.string('audience', { minLength: 1 })];
  return list.length === 0 ? [clientId] : [...new Set(list)];
}
