/**
 * Checks `Authorization: Bearer` access tokens. A JWT is verified with jose against the
 * provider's key set (signature, `iss`, `aud`, `exp`/`nbf` with the clock tolerance, an
 * asymmetric algorithm); an opaque token is sent to the introspection endpoint when that is
 * enabled. Refusals are FusionError 401 saying what was wrong (never echoing the token);
 * a provider that cannot be asked gives 503.
 */
import { errors as joseErrors, jwtVerify } from 'jose';
import type { JWTHeaderParameters, JWTPayload } from 'jose';
import * as oidc from 'openid-client';
import { toIso } from '../../../../helper/datetime.js';
import { FusionError } from '../../../../helper/errors.js';
import type { OidcAuthOptions } from './config.js';
import type { DiscoveredProvider } from './provider-connection.js';
import { classifyProviderError, clip, describeRefusal } from './provider-errors.js';

/** Signature algorithms accepted on bearer JWTs (asymmetric only: no `none`, no shared secrets). */
export const BEARER_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

/** Longest bearer token accepted, in characters. */
export const MAX_BEARER_LENGTH = 16_384;

const JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;
/** Keycloak's `typ` claim values of tokens that are not access tokens. */
const NOT_ACCESS_TOKEN = /^(id|refresh|offline|logout)$/i;

/** Verifies bearer tokens for one backend. */
export class BearerVerifier {
  readonly #options: OidcAuthOptions;
  readonly #now: () => number;

  constructor(options: OidcAuthOptions, now: () => number) {
    this.#options = options;
    this.#now = now;
  }

  /** The claims of a valid access token; throws FusionError 401 (invalid) or 503 (provider unreachable). */
  async verify(token: string, provider: DiscoveredProvider): Promise<Record<string, unknown>> {
    if (token.length > MAX_BEARER_LENGTH) throw refuse(`the bearer token is longer than ${MAX_BEARER_LENGTH} characters`);
    if (!TOKEN68.test(token)) throw refuse('the bearer token holds characters a token cannot hold');
    if (JWS.test(token)) return this.#verifyJwt(token, provider);
    if (token.split('.').length === 5) throw refuse('encrypted (JWE) bearer tokens are not supported: ask the provider for signed access tokens');
    if (!this.#options.introspection) {
      throw refuse(`the bearer token is not a signed JWT; opaque tokens need auth.backend.${this.#options.flavor}.introspection: true`);
    }
    return this.#introspect(token, provider);
  }

  async #verifyJwt(token: string, provider: DiscoveredProvider): Promise<Record<string, unknown>> {
    const options = this.#options;
    if (provider.jwks === null) throw refuse('the identity provider publishes no key set (jwks_uri): bearer JWTs cannot be checked');
    let payload: JWTPayload;
    let header: JWTHeaderParameters;
    try {
      ({ payload, protectedHeader: header } = await jwtVerify(token, provider.jwks, {
        issuer: provider.issuer,
        audience: options.audience,
        clockTolerance: options.clockTolerance,
        currentDate: new Date(this.#now()),
        algorithms: BEARER_ALGORITHMS,
        requiredClaims: ['exp'],
      }));
    } catch (error) {
      throw this.#jwtError(error, provider);
    }
    if (typeof payload.typ === 'string' && NOT_ACCESS_TOKEN.test(payload.typ)) {
      throw refuse(`the bearer token is not an access token (typ ${JSON.stringify(clip(payload.typ, 20))}): send the access token`);
    }
    if (!looksLikeAccessToken(header, payload)) {
      throw refuse('the bearer token is not recognisably an access token (no at+jwt type, no scope or client_id claim): ID tokens are not accepted');
    }
    return payload as Record<string, unknown>;
  }

  #jwtError(error: unknown, provider: DiscoveredProvider): FusionError {
    const tolerance = `clock tolerance ${this.#options.clockTolerance} s`;
    if (error instanceof joseErrors.JWTExpired) {
      return refuse(`the bearer token expired at ${isoOf(error.payload.exp)} (${tolerance}): get a new token from the identity provider`);
    }
    if (error instanceof joseErrors.JWTClaimValidationFailed) {
      const { claim, payload } = error;
      if (claim === 'iss') return refuse(`the bearer token was issued by ${shown(payload.iss)}, not by ${provider.issuer}`);
      if (claim === 'aud') {
        const wanted = this.#options.audience.map((a) => JSON.stringify(a)).join(', ');
        return refuse(`the bearer token's audience ${shown(payload.aud)} does not include ${wanted} (auth.backend.${this.#options.flavor}.audience)`);
      }
      if (claim === 'nbf') return refuse(`the bearer token is not valid before ${isoOf(payload.nbf)} (${tolerance})`);
      if (claim === 'iat') return refuse(`the bearer token was issued in the future, at ${isoOf(payload.iat)} (${tolerance})`);
      if (claim === 'exp') return refuse('the bearer token has no valid exp (expiry) claim');
      return refuse(`the bearer token's ${clip(claim, 40)} claim is not valid (${clip(error.reason, 40)})`);
    }
    if (error instanceof joseErrors.JWSSignatureVerificationFailed) return refuse('the bearer token signature is not valid');
    if (error instanceof joseErrors.JWKSNoMatchingKey) {
      return refuse('the bearer token is signed with a key the identity provider does not publish (unknown kid, or a key of another provider)');
    }
    if (error instanceof joseErrors.JWKSMultipleMatchingKeys) return refuse('the bearer token names no key (kid) and the provider publishes several');
    if (error instanceof joseErrors.JOSEAlgNotAllowed || error instanceof joseErrors.JOSENotSupported) {
      return refuse(`the bearer token's signature algorithm is not accepted (accepted: ${BEARER_ALGORITHMS.join(', ')})`);
    }
    if (error instanceof joseErrors.JWSInvalid || error instanceof joseErrors.JWTInvalid || error instanceof joseErrors.JWKInvalid) {
      return refuse('the bearer token is malformed: expected a signed JWT');
    }
    const failure = classifyProviderError(error, this.#options.timeout);
    const reason = failure.kind === 'refused' ? describeRefusal(failure) : failure.reason;
    return new FusionError('FUSION_ERR_IDP_UNAVAILABLE', `cannot fetch the identity provider's keys to check the bearer token (${reason}): retry later`);
  }

  async #introspect(token: string, provider: DiscoveredProvider): Promise<Record<string, unknown>> {
    const options = this.#options;
    let result: oidc.IntrospectionResponse;
    try {
      result = await oidc.tokenIntrospection(provider.config, token, { token_type_hint: 'access_token' });
    } catch (error) {
      const failure = classifyProviderError(error, options.timeout);
      const reason = failure.kind === 'refused' ? describeRefusal(failure) : failure.reason;
      throw new FusionError('FUSION_ERR_IDP_UNAVAILABLE', `token introspection at the identity provider failed (${reason}): retry later`);
    }
    if (result.active !== true) throw refuse('the bearer token is not active (expired, revoked or unknown to the identity provider)');
    const tokenType = typeof result.token_type === 'string' ? result.token_type : typeof result.typ === 'string' ? result.typ : '';
    if (tokenType.toLowerCase() !== 'bearer') throw refuse('the bearer token is not an access token: send the access token');
    if (result.iss !== undefined && result.iss !== provider.issuer) throw refuse(`the bearer token was issued by ${shown(result.iss)}, not by ${provider.issuer}`);
    const now = this.#now() / 1000;
    if (typeof result.exp === 'number' && result.exp + options.clockTolerance < now) {
      throw refuse(`the bearer token expired at ${isoOf(result.exp)} (clock tolerance ${options.clockTolerance} s)`);
    }
    const audiences = result.aud === undefined ? [] : [result.aud].flat();
    const holders = audiences.length > 0 ? audiences : [result.client_id];
    if (!holders.some((a) => typeof a === 'string' && options.audience.includes(a))) {
      const what = audiences.length > 0 ? `audience ${shown(result.aud)}` : `client ${shown(result.client_id)}`;
      throw refuse(`the bearer token's ${what} is not in auth.backend.${options.flavor}.audience`);
    }
    return result as Record<string, unknown>;
  }
}

/**
 * An ID token has the same issuer, audience and keys as an access token for this client, so
 * the signature alone does not tell them apart. Access tokens say what they are: the RFC 9068
 * `at+jwt` type, Keycloak's `typ: Bearer` claim, or a `scope`/`scp`/`client_id` claim that ID
 * tokens do not carry.
 */
function looksLikeAccessToken(header: JWTHeaderParameters, payload: JWTPayload): boolean {
  if (typeof header.typ === 'string' && /^(application\/)?at\+jwt$/i.test(header.typ)) return true;
  if (typeof payload.typ === 'string' && payload.typ.toLowerCase() === 'bearer') return true;
  return payload.scope !== undefined || payload.scp !== undefined || payload.client_id !== undefined;
}

function refuse(reason: string): FusionError {
  return new FusionError('FUSION_ERR_UNAUTHORIZED', reason);
}

function isoOf(seconds: unknown): string {
  const date = typeof seconds === 'number' ? new Date(seconds * 1000) : null;
  return date !== null && !Number.isNaN(date.getTime()) ? toIso(date) : clip(String(seconds), 40);
}

function shown(value: unknown): string {
  return clip(JSON.stringify(value) ?? 'nothing', 120);
}
