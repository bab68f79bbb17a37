/** Shared pieces of the OIDC tests: a Fusion server with an OidcAuthBackend, a movable clock, a log sink, token signing. */
import { Writable } from 'node:stream';
import { SignJWT, importJWK } from 'jose';
import type { JWTPayload } from 'jose';
import * as oidc from 'openid-client';
import { ConfigReader } from '../../../../src/helper/config.js';
import { createLogger } from '../../../../src/helper/logging.js';
import { FusionAuthAPI } from '../../../../src/server/auth/impl.js';
import { OidcAuthBackend, oidcAuthBackendFactory } from '../../../../src/server/auth/backend/oidc.js';
import type { OidcFlavor } from '../../../../src/server/auth/backend/oidc.js';
import { TokenCipher, ephemeralTokenKey } from '../../../../src/server/auth/backend/oidc/token-cipher.js';
import { tokensFromData } from '../../../../src/server/auth/backend/oidc/tokens.js';
import type { OidcSessionTokens } from '../../../../src/server/auth/backend/oidc/tokens.js';
import { parseConfig } from '../../../../src/server/config.js';
import { FusionServer } from '../../../../src/server/server.js';
import type { FusionStorage } from '../../../../src/server/storage/storage.js';
import { ProbeAPI, probeHook, raw, rawLogin } from '../harness.js';
import type { RawAnswer } from '../harness.js';
import { authorizeInBrowser } from './browser.js';
import { CLIENT_ID, CLIENT_SECRET, REDIRECT_URI } from './provider.js';
import type { SigningKey } from './provider.js';

/** The API key of the `collector` service client in every test config. */
export const API_KEY = 'collector-api-key-0123456789abcdef';

/** A clock tests move forward (milliseconds since the epoch). */
export class TestClock {
  offset = 0;
  readonly now = (): number => Date.now() + this.offset;

  /** Moves the clock `seconds` ahead. */
  advance(seconds: number): void {
    this.offset += seconds * 1000;
  }
}

/** Log lines captured from a server's pino logger. */
export class LogSink {
  readonly lines: Record<string, unknown>[] = [];
  readonly logger = createLogger({
    level: 'info',
    stream: new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) this.lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    }),
  });

  /** Messages of the captured lines. */
  get messages(): string[] {
    return this.lines.map((line) => String(line.msg));
  }
}

/** The `auth.backend.<flavor>` section for the test provider's confidential client. */
export function oidcSection(issuer: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    issuer,
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    redirect_uri: REDIRECT_URI,
    allow_insecure_http: true,
    jwks_cooldown: 0,
    discovery_retry: 0.2,
    timeout: 5,
    ...extra,
  };
}

/** An OidcAuthBackend built from a config section, on `clock`. */
export function oidcBackend(section: Record<string, unknown>, clock: TestClock, flavor: OidcFlavor = 'oidc'): OidcAuthBackend {
  const options = oidcAuthBackendFactory(flavor).parseConfig(new ConfigReader(section, { key: `auth.backend.${flavor}`, env: {} }));
  return new OidcAuthBackend(options, { now: clock.now });
}

/** A running Fusion server with the auth and probe APIs. */
export interface OidcServer {
  server: FusionServer;
  auth: FusionAuthAPI;
  baseUrl: string;
  /** GET/POST... with optional session token and bearer token. */
  call(method: 'GET' | 'POST' | 'DELETE', path: string, options?: { session?: string; bearer?: string; apiKey?: string; body?: unknown }): Promise<RawAnswer>;
  stop(): Promise<void>;
}

/**
 * Starts a Fusion server on 127.0.0.1:0. With `backend`, that instance is used (the config's
 * strategy is then irrelevant); else the backend comes from `auth.backend` in `auth`.
 */
export async function startOidcServer(options: {
  storage: FusionStorage;
  auth: Record<string, unknown>;
  backend?: OidcAuthBackend;
  logger?: LogSink;
}): Promise<OidcServer> {
  const authSection = { clients: [{ name: 'collector', key: API_KEY }], cookie: { secure: false }, ...options.auth };
  const config = parseConfig({ server: { log_level: 'silent', docs: false }, auth: authSection }, { env: {} });
  const auth = new FusionAuthAPI({ authorize: probeHook, ...(options.backend ? { backend: options.backend } : {}) });
  const server = new FusionServer({
    config,
    storage: options.storage,
    apis: [auth, new ProbeAPI()],
    ...(options.logger ? { logger: options.logger.logger } : {}),
  });
  const baseUrl = await server.listen({ host: '127.0.0.1', port: 0 });
  return {
    server,
    auth,
    baseUrl,
    call: (method, path, callOptions = {}) => {
      const headers: Record<string, string> = {};
      if (callOptions.session !== undefined) headers.cookie = `FUSION_SESSION=${callOptions.session}`;
      if (callOptions.bearer !== undefined) headers.authorization = `Bearer ${callOptions.bearer}`;
      if (callOptions.apiKey !== undefined) headers['x-fusion-api-token'] = callOptions.apiKey;
      if (callOptions.body !== undefined) headers['content-type'] = 'application/json';
      return raw(baseUrl, method, path, { headers, ...(callOptions.body === undefined ? {} : { body: JSON.stringify(callOptions.body) }) });
    },
    stop: () => server.close(),
  };
}

/** Signs `claims` with a provider key (RS256, its kid), as a forger holding that key or the provider itself would. */
export async function signToken(key: SigningKey, claims: JWTPayload, header: { typ?: string; kid?: string } = {}): Promise<string> {
  const privateKey = await importJWK(key.privateJwk, 'RS256');
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: header.kid ?? key.kid, typ: header.typ ?? 'at+jwt' }).sign(privateKey);
}

/** Seconds since the epoch, now. */
export function epoch(): number {
  return Math.floor(Date.now() / 1000);
}

/** An openid-client configuration for a client of the test provider (for tests acting as that client). */
export function providerClient(issuer: string, clientId: string, secret?: string): Promise<oidc.Configuration> {
  return oidc.discovery(new URL(issuer), clientId, secret, secret === undefined ? oidc.None() : oidc.ClientSecretBasic(secret), {
    execute: [oidc.allowInsecureRequests],
  });
}

/** Runs the browser part of the flow at the provider, then POST /api/auth/login with the code; returns the answer and session token. */
export async function loginThroughProvider(
  fusion: OidcServer,
  issuer: string,
  options: { username?: string; password?: string; clientId?: string; pkce?: boolean; sendVerifier?: boolean; data?: Record<string, unknown> } = {},
): Promise<RawAnswer & { token: string | null; code: string }> {
  const username = options.username ?? 'alice';
  const result = await authorizeInBrowser({
    issuer,
    clientId: options.clientId ?? CLIENT_ID,
    redirectUri: REDIRECT_URI,
    username,
    password: options.password ?? `${username}-password`,
    pkce: options.pkce ?? false,
  });
  const sendVerifier = options.sendVerifier ?? options.pkce ?? false;
  const data = { code: result.code, ...(sendVerifier ? { code_verifier: result.codeVerifier } : {}), ...(options.data ?? {}) };
  const answer = await rawLogin(fusion.baseUrl, data);
  return { ...answer, code: result.code };
}

/** Rows in the sessions table. */
export async function sessionCount(storage: FusionStorage): Promise<number> {
  const [row] = await storage.knex('fusion_session').count<{ count: string | number }[]>({ count: '*' });
  return Number(row?.count ?? 0);
}

/** The decrypted tokens of a session whose backend has no token_keys (the process's test key), or null. */
export async function sessionTokens(storage: FusionStorage, token: string, keys: Buffer[] = [ephemeralTokenKey()]): Promise<OidcSessionTokens | null> {
  const row = await storage.retrieveSession(token);
  return row === null ? null : tokensFromData(row.data, new TokenCipher(keys)).tokens;
}
