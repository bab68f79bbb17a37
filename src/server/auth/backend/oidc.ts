/**
 * OidcAuthBackend: people log in at an OpenID Connect provider (Keycloak or any other) with
 * the authorization-code flow, PKCE supported; services and SPAs may instead send
 * `Authorization: Bearer <access token>`. Token material lives in the session row, so any
 * instance refreshes an expired access token (once, under the session's lock) and a refused
 * refresh ends the session. Strategies `oidc` and `keycloak` (same backend, edf_fusion keys).
 */
import type { FastifyRequest } from 'fastify';
import * as oidc from 'openid-client';
import { AuthInfo } from '../../../concept/index.js';
import type { Identity } from '../../../concept/index.js';
import type { ConfigReader } from '../../../helper/config.js';
import { FusionError } from '../../../helper/errors.js';
import type { FusionLogger } from '../../../helper/logging.js';
import { FusionAuthBackend } from './backend.js';
import type { AuthBackendContext, AuthSession } from './backend.js';
import { BearerVerifier } from './oidc/bearer.js';
import { identityFromClaims, readClaim } from './oidc/claims.js';
import { parseOidcAuthConfig } from './oidc/config.js';
import type { OidcAuthOptions, OidcFlavor } from './oidc/config.js';
import { OidcProviderConnection } from './oidc/provider-connection.js';
import type { DiscoveredProvider, ProviderStatus } from './oidc/provider-connection.js';
import { classifyProviderError, describeRefusal } from './oidc/provider-errors.js';
import { TokenCipher } from './oidc/token-cipher.js';
import { accessTokenExpired, parseOidcLoginData, tokensFromData, tokensFromResponse, tokensToData } from './oidc/tokens.js';
import type { OidcLoginData, OidcSessionTokens } from './oidc/tokens.js';

export type { OidcAuthOptions, OidcFlavor } from './oidc/config.js';

/** Options of OidcAuthBackend besides the parsed config. */
export interface OidcAuthBackendExtras {
  /** The clock, in milliseconds since the epoch (tests move it); default Date.now. */
  now?: () => number;
}


/** The OpenID Connect backend (see the module comment and docs/auth.md). */
export class OidcAuthBackend extends FusionAuthBackend {
  /** The strategy name: `oidc` or `keycloak`. */
  readonly strategy: string;
  readonly #options: OidcAuthOptions;
  readonly #now: () => number;
  readonly #provider: OidcProviderConnection;
  readonly #bearer: BearerVerifier;
  readonly #cipher: TokenCipher;
  #logger: FusionLogger | null = null;

  constructor(options: OidcAuthOptions, extras: OidcAuthBackendExtras = {}) {
    super();
    this.strategy = options.flavor;
    this.#options = options;
    this.#now = extras.now ?? Date.now;
    this.#provider = new OidcProviderConnection(options);
    this.#bearer = new BearerVerifier(options, this.#now);
    this.#cipher = new TokenCipher(options.tokenKeys);
  }

  /** Whether discovery succeeded, and the last failure. */
  get providerStatus(): ProviderStatus {
    return this.#provider.status;
  }

  /** `{type: 'keycloak'|'oidc', parameters: {host, realm, client, redirect_uri, issuer}}`: what a front end needs to start the flow. */
  async info(): Promise<AuthInfo> {
    const o = this.#options;
    return new AuthInfo({
      type: o.flavor,
      parameters: { host: o.host, realm: o.realm, client: o.clientId, redirect_uri: o.redirectUri, issuer: o.issuer },
    });
  }

  /** Checks the shape of `{code, code_verifier?, nonce?, iss?}` (400 before anything is counted); no username is known before the exchange. */
  override loginSubject(data: unknown): null {
    this.#loginData(data);
    return null;
  }

  /** Exchanges the authorization code, builds the Identity from the ID token (and userinfo), keeps the tokens in the session. */
  async login(data: unknown, _request: FastifyRequest, session: AuthSession): Promise<Identity | null> {
    const { login, redirectUri } = this.#loginData(data);
    const provider = await this.#provider.ready();
    const callback = new URL(redirectUri);
    callback.searchParams.set('code', login.code);
    if (provider.config.serverMetadata().authorization_response_iss_parameter_supported === true) {
      callback.searchParams.set('iss', login.iss ?? provider.issuer);
    }
    let response: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      response = await oidc.authorizationCodeGrant(provider.config, callback, {
        idTokenExpected: true,
        ...(login.codeVerifier === null ? {} : { pkceCodeVerifier: login.codeVerifier }),
        ...(login.nonce === null ? {} : { expectedNonce: login.nonce }),
      });
    } catch (error) {
      throw this.#grantError(error, 'login failed: the identity provider refused the authorization code', 'FUSION_ERR_LOGIN_FAILED');
    }
    const claims = response.claims();
    if (claims === undefined) throw new FusionError('FUSION_ERR_LOGIN_FAILED', 'login failed: the identity provider returned no ID token (is the openid scope requested?)');
    const identity = await this.#identity(provider, { ...claims }, response.access_token);
    if (identity === null) {
      throw new FusionError(
        'FUSION_ERR_LOGIN_FAILED',
        `login failed: the identity provider gave no usable ${this.#options.usernameClaim} claim (request the profile scope, or set auth.backend.${this.strategy}.username_claim)`,
      );
    }
    session.setData(tokensToData(tokensFromResponse(response, claims.sub, this.#now()), this.#cipher));
    return identity;
  }

  /** Refreshes the tokens once the access token has expired (groups re-read then); a refused refresh ends the session (401). */
  async isLogged(identity: Identity, session: AuthSession): Promise<Identity | null> {
    const read = tokensFromData(session.data, this.#cipher);
    if (read.tokens === null) throw unauthorized(read.problem);
    const tokens = read.tokens;
    if (!accessTokenExpired(tokens, this.#now())) {
      if (read.rewrite) await this.#reseal(session);
      return identity;
    }
    if (tokens.refreshToken === null) throw unauthorized('the session expired at the identity provider (no refresh token was issued): log in again');
    const provider = await this.#provider.ready();
    const refreshed: { identity: Identity | null } = { identity: null };
    const stored = await session.update(async (data) => {
      const current = tokensFromData(data, this.#cipher);
      if (current.tokens === null) throw unauthorized(current.problem);
      if (!accessTokenExpired(current.tokens, this.#now())) return null; // another request refreshed it meanwhile
      const next = await this.#refresh(provider, current.tokens);
      refreshed.identity = next.identity;
      return tokensToData(next.tokens, this.#cipher);
    });
    if (stored === null) throw unauthorized('the session ended meanwhile (logged out elsewhere): log in again');
    return refreshed.identity ?? identity;
  }

  /** Revokes the refresh and access tokens at the provider (failures are logged: the local logout happens anyway). */
  override async logout(_identity: Identity, session: AuthSession): Promise<void> {
    const { tokens } = tokensFromData(session.data, this.#cipher);
    if (tokens === null) return;
    let provider: DiscoveredProvider;
    try {
      provider = await this.#provider.ready();
    } catch (error) {
      this.#logger?.warn({ err: error }, 'auth: logout could not revoke the tokens: the identity provider is unreachable');
      return;
    }
    if (provider.config.serverMetadata().revocation_endpoint === undefined) return;
    const revocations: [string | null, string][] = [
      [tokens.refreshToken, 'refresh_token'],
      [tokens.accessToken, 'access_token'],
    ];
    for (const [token, hint] of revocations) {
      if (token === null) continue;
      try {
        await oidc.tokenRevocation(provider.config, token, { token_type_hint: hint });
      } catch (error) {
        const failure = classifyProviderError(error, this.#options.timeout);
        this.#logger?.warn({ failure }, `auth: revoking the ${hint} at logout failed`);
      }
    }
  }

  /** `Authorization: Bearer <token>`: the Identity of a valid access token; other schemes are not ours (null). */
  override async authenticateRequest(request: FastifyRequest): Promise<Identity | null> {
    const header = request.headers.authorization;
    if (!this.#options.bearerTokens || typeof header !== 'string') return null;
    const token = bearerToken(header);
    if (token === null) return null;
    if (token === '') throw unauthorized('Authorization: Bearer needs a token after the scheme');
    const provider = await this.#provider.ready();
    const claims = await this.#bearer.verify(token, provider);
    const identity = identityFromClaims(claims, this.#options);
    if (identity === null) {
      throw unauthorized(`the bearer token has no usable ${this.#options.usernameClaim} claim (auth.backend.${this.strategy}.username_claim)`);
    }
    return identity;
  }

  /** Discovers the provider; when it is down, logs why and keeps retrying (the server starts anyway). */
  override async start(context?: AuthBackendContext): Promise<void> {
    this.#logger = context?.logger ?? null;
    await this.#provider.start(this.#logger);
  }

  /** Stops discovery retries and closes connections to the provider. */
  override async close(): Promise<void> {
    await this.#provider.close();
  }

  /** Rewrites a row in clear text (earlier versions) or sealed with an old key, under the session's lock. */
  async #reseal(session: AuthSession): Promise<void> {
    await session.update(async (data) => {
      const current = tokensFromData(data, this.#cipher);
      return current.tokens !== null && current.rewrite ? tokensToData(current.tokens, this.#cipher) : null;
    });
  }

  #loginData(data: unknown): { login: OidcLoginData; redirectUri: string } {
    const redirectUri = this.#options.redirectUri;
    if (redirectUri === null) {
      throw new FusionError('FUSION_ERR_BAD_REQUEST', `this service takes bearer tokens only: auth.backend.${this.strategy}.redirect_uri is not set`);
    }
    return { login: parseOidcLoginData(data, { requirePkce: this.#options.requirePkce }), redirectUri };
  }

  async #refresh(provider: DiscoveredProvider, current: OidcSessionTokens): Promise<{ tokens: OidcSessionTokens; identity: Identity | null }> {
    let response: Awaited<ReturnType<typeof oidc.refreshTokenGrant>>;
    try {
      response = await oidc.refreshTokenGrant(provider.config, current.refreshToken!);
    } catch (error) {
      throw this.#grantError(error, 'the identity provider refused to refresh the session', 'FUSION_ERR_UNAUTHORIZED', 'log in again');
    }
    const claims = response.claims();
    if (claims !== undefined && claims.sub !== current.sub) throw unauthorized('the refreshed ID token names another user: log in again');
    const identity = await this.#identity(provider, { ...(claims ?? {}), sub: current.sub }, response.access_token);
    return { tokens: tokensFromResponse(response, current.sub, this.#now(), current.refreshToken), identity };
  }

  /** The Identity from ID-token claims, completed from the userinfo endpoint when the username or groups claim is missing. */
  async #identity(provider: DiscoveredProvider, claims: Record<string, unknown>, accessToken: string): Promise<Identity | null> {
    const { usernameClaim, groupsClaim } = this.#options;
    const complete = readClaim(claims, usernameClaim) !== undefined && readClaim(claims, groupsClaim) !== undefined;
    if (!complete && provider.config.serverMetadata().userinfo_endpoint !== undefined) {
      try {
        const userinfo = await oidc.fetchUserInfo(provider.config, accessToken, String(claims.sub));
        claims = { ...userinfo, ...claims };
      } catch (error) {
        const failure = classifyProviderError(error, this.#options.timeout);
        if (failure.kind === 'unreachable') throw unavailable(`the identity provider's userinfo endpoint cannot be reached (${failure.reason}): retry later`);
        this.#logger?.warn({ failure }, 'auth: the userinfo endpoint refused the access token; using the ID token claims only');
      }
    }
    return identityFromClaims(claims, this.#options);
  }

  /** A token-endpoint failure as a FusionError: refused → `code` (401), unreachable or our client refused → 503. */
  #grantError(error: unknown, what: string, code: 'FUSION_ERR_LOGIN_FAILED' | 'FUSION_ERR_UNAUTHORIZED', next = 'start the login again'): FusionError {
    const failure = classifyProviderError(error, this.#options.timeout);
    if (failure.kind === 'unreachable') return unavailable(`the identity provider cannot be reached (${failure.reason}): retry later`);
    if (failure.kind === 'refused' && (failure.error === 'invalid_client' || failure.error === 'unauthorized_client')) {
      this.#logger?.error({ failure }, `auth: the identity provider refused this service's client credentials (check auth.backend.${this.strategy}.client_id and client_secret)`);
      return unavailable("the identity provider refused this service's client credentials: ask the administrator to check the auth configuration");
    }
    const detail = failure.kind === 'refused' ? describeRefusal(failure) : failure.reason;
    return new FusionError(code, `${what} (${detail}): ${next}`);
  }
}

/** What follows the Bearer scheme (RFC 6750), trimmed; null for another scheme. The verifier judges the token. */
function bearerToken(header: string): string | null {
  if (header.slice(0, 6).toLowerCase() !== 'bearer') return null;
  const rest = header.slice(6);
  if (rest !== '' && rest[0] !== ' ' && rest[0] !== '\t') return null; // "Bearerish": not our scheme
  return rest.trim();
}

function unauthorized(message: string): FusionError {
  return new FusionError('FUSION_ERR_UNAUTHORIZED', message);
}

function unavailable(message: string): FusionError {
  return new FusionError('FUSION_ERR_IDP_UNAVAILABLE', message);
}

/** The registry entry for strategy `flavor` (`oidc` or `keycloak`): parses `auth.backend.<flavor>`. */
export function oidcAuthBackendFactory(flavor: OidcFlavor): { parseConfig: (reader: ConfigReader) => OidcAuthOptions; create: (options: OidcAuthOptions) => FusionAuthBackend } {
  return {
    parseConfig: (reader: ConfigReader) => parseOidcAuthConfig(reader, flavor),
    create: (options: OidcAuthOptions): FusionAuthBackend => new OidcAuthBackend(options),
  };
}
