/**
 * What an OIDC session keeps in its storage row (`session.data`): the subject, when the access
 * token expires, and the access and refresh tokens sealed together (AES-256-GCM, token-cipher.ts)
 * so a copy of the table gives no token away; and what a login's `data` may hold.
 */
import { FusionError } from '../../../../helper/errors.js';
import type { TokenCipher } from './token-cipher.js';

/** Seconds an access token is taken to live when the provider gives no `expires_in`. */
export const DEFAULT_ACCESS_TOKEN_LIFETIME = 300;

/** The token material of one session. */
export interface OidcSessionTokens {
  /** The `sub` of the ID token: every refreshed ID token must name the same subject. */
  sub: string;
  accessToken: string;
  refreshToken: string | null;
  /** When the access token expires, in seconds since the epoch (by this server's clock). */
  expiresAt: number;
}

/** The session-row form: `{sub, expires_at, sealed}`, `sealed` holding both tokens for this `sub` only. */
export function tokensToData(tokens: OidcSessionTokens, cipher: TokenCipher): Record<string, unknown> {
  const plain = JSON.stringify({ access_token: tokens.accessToken, refresh_token: tokens.refreshToken });
  return { sub: tokens.sub, expires_at: tokens.expiresAt, sealed: cipher.seal(plain, sealContext(tokens.sub)) };
}

/** What a session row holds: its tokens and whether to rewrite it (clear text, or sealed with an old key), or why there are none. */
export type StoredTokens = { tokens: OidcSessionTokens; rewrite: boolean } | { tokens: null; problem: string };

/**
 * Reads the session-row form. Rows written in clear text by earlier versions
 * (`{sub, access_token, refresh_token, expires_at}`) are read once and marked for rewriting.
 */
export function tokensFromData(data: Readonly<Record<string, unknown>>, cipher: TokenCipher): StoredTokens {
  const { sub, expires_at: expiresAt, sealed } = data;
  const none = { tokens: null, problem: 'the session holds no OpenID Connect tokens: log in again' } as const;
  if (typeof sub !== 'string' || typeof expiresAt !== 'number') return none;
  if (typeof sealed !== 'string') {
    const pair = tokenPair(data);
    return pair === null ? none : { tokens: { sub, ...pair, expiresAt }, rewrite: true };
  }
  const plain = cipher.open(sealed, sealContext(sub));
  let pair: { accessToken: string; refreshToken: string | null } | null = null;
  try {
    pair = plain === null ? null : tokenPair(JSON.parse(plain) as Record<string, unknown>);
  } catch {
    pair = null;
  }
  if (pair === null) return { tokens: null, problem: 'the session tokens cannot be decrypted with any configured token key (was the key removed?): log in again' };
  return { tokens: { sub, ...pair, expiresAt }, rewrite: cipher.isStale(sealed) };
}

function tokenPair(data: Readonly<Record<string, unknown>>): { accessToken: string; refreshToken: string | null } | null {
  const { access_token: accessToken, refresh_token: refreshToken } = data;
  if (typeof accessToken !== 'string' || (refreshToken !== null && typeof refreshToken !== 'string')) return null;
  return { accessToken, refreshToken };
}

function sealContext(sub: string): string {
  return `fusion-oidc-session-tokens:${sub}`;
}

/** Token-endpoint answer fields the session needs. */
export interface TokenResponseLike {
  access_token: string;
  refresh_token?: string;
  expires_in?: number;
}

/** Session tokens from a token-endpoint answer received at `nowMs`; a refresh keeps the old refresh token when no new one comes. */
export function tokensFromResponse(response: TokenResponseLike, sub: string, nowMs: number, previousRefreshToken: string | null = null): OidcSessionTokens {
  const lifetime = typeof response.expires_in === 'number' && response.expires_in >= 0 ? response.expires_in : DEFAULT_ACCESS_TOKEN_LIFETIME;
  return {
    sub,
    accessToken: response.access_token,
    refreshToken: response.refresh_token ?? previousRefreshToken,
    expiresAt: Math.floor(nowMs / 1000) + lifetime,
  };
}

/** True when the access token has expired at `nowMs`. */
export function accessTokenExpired(tokens: OidcSessionTokens, nowMs: number): boolean {
  return tokens.expiresAt <= nowMs / 1000;
}

/** A login's data: the authorization code from the redirect, and the PKCE verifier and nonce if the front end used them. */
export interface OidcLoginData {
  code: string;
  codeVerifier: string | null;
  nonce: string | null;
  /** The `iss` of the authorization response, when the front end passes it on (RFC 9207). */
  iss: string | null;
}

const PKCE_VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

/** Reads `{code, code_verifier?, nonce?, iss?}`; throws FUSION_ERR_VALIDATION naming the bad field. */
export function parseOidcLoginData(data: unknown, options: { requirePkce: boolean }): OidcLoginData {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw invalid('data: expected an object with the authorization code: {"code": "...", "code_verifier": "..."}');
  }
  const { code, code_verifier: codeVerifier, nonce, iss } = data as Record<string, unknown>;
  if (typeof code !== 'string' || code.length === 0 || code.length > 4096) {
    throw invalid('data.code: expected the authorization code from the redirect (a string of 1 to 4096 characters)');
  }
  if (codeVerifier !== undefined && (typeof codeVerifier !== 'string' || !PKCE_VERIFIER.test(codeVerifier))) {
    throw invalid('data.code_verifier: expected a PKCE verifier (43 to 128 characters of A-Z a-z 0-9 - . _ ~)');
  }
  if (codeVerifier === undefined && options.requirePkce) {
    throw invalid('data.code_verifier: is required (PKCE): send the code_verifier the authorization request was made with');
  }
  if (nonce !== undefined && (typeof nonce !== 'string' || nonce.length === 0 || nonce.length > 512)) {
    throw invalid('data.nonce: expected the nonce sent in the authorization request (1 to 512 characters)');
  }
  if (iss !== undefined && (typeof iss !== 'string' || iss.length === 0 || iss.length > 2048)) {
    throw invalid('data.iss: expected the iss parameter of the redirect');
  }
  return {
    code,
    codeVerifier: (codeVerifier as string | undefined) ?? null,
    nonce: (nonce as string | undefined) ?? null,
    iss: (iss as string | undefined) ?? null,
  };
}

function invalid(message: string): FusionError {
  return new FusionError('FUSION_ERR_VALIDATION', message);
}
