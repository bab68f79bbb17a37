/**
 * The link to the identity provider: OpenID Connect discovery (openid-client), the key set
 * (jose's remote JWKS: cached, fetched again for an unknown `kid` once the cooldown has
 * passed), and one HTTP agent with the configured TLS settings for every call. When the
 * provider cannot be reached at start, the error is logged, discovery is retried in the
 * background every `discovery_retry` seconds (and on demand, no more often), and whatever
 * needs the provider meanwhile gets a 503 FUSION_ERR_IDP_UNAVAILABLE.
 */
import { createRemoteJWKSet, customFetch as joseCustomFetch } from 'jose';
import type { JWTVerifyGetKey } from 'jose';
import * as oidc from 'openid-client';
import { Agent, fetch as undiciFetch } from 'undici';
import type { RequestInit as UndiciRequestInit } from 'undici';
import { FusionError } from '../../../../helper/errors.js';
import type { FusionLogger } from '../../../../helper/logging.js';
import type { OidcAuthOptions } from './config.js';
import { classifyProviderError } from './provider-errors.js';

/** What discovery yields: the openid-client configuration and the key set of the provider. */
export interface DiscoveredProvider {
  config: oidc.Configuration;
  /** The issuer as the provider's metadata states it (equal to the configured one). */
  issuer: string;
  /** Null when the provider publishes no jwks_uri (bearer JWTs cannot be checked then). */
  jwks: JWTVerifyGetKey | null;
}

/** Discovery state, for logs and tests. */
export interface ProviderStatus {
  ready: boolean;
  /** Why the last discovery attempt failed, or null. */
  lastError: string | null;
}

/** Discovers the provider once, retrying while it is down; shares one HTTP agent. */
export class OidcProviderConnection {
  readonly #options: OidcAuthOptions;
  readonly #agent: Agent;
  readonly #fetch: (url: string, init: object) => Promise<Response>;
  #logger: FusionLogger | null = null;
  #discovered: DiscoveredProvider | null = null;
  #pending: Promise<DiscoveredProvider> | null = null;
  #lastAttempt = 0;
  #lastError: string | null = null;
  #timer: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(options: OidcAuthOptions) {
    this.#options = options;
    const { rejectUnauthorized, ca } = options.tls;
    this.#agent = new Agent({ connect: { rejectUnauthorized, ...(ca === undefined ? {} : { ca }) } });
    const agent = this.#agent;
    this.#fetch = (url, init) => undiciFetch(url, { ...(init as UndiciRequestInit), dispatcher: agent }) as unknown as Promise<Response>;
  }

  /** The state of discovery. */
  get status(): ProviderStatus {
    return { ready: this.#discovered !== null, lastError: this.#lastError };
  }

  /** First discovery attempt; on failure logs why and keeps retrying in the background. Never throws. */
  async start(logger: FusionLogger | null): Promise<void> {
    this.#logger = logger;
    try {
      await this.ready();
    } catch {
      this.#schedule();
    }
  }

  /** The discovered provider; tries discovery again when due; else throws FUSION_ERR_IDP_UNAVAILABLE (503). */
  async ready(): Promise<DiscoveredProvider> {
    if (this.#discovered !== null) return this.#discovered;
    if (this.#pending === null) {
      const due = this.#lastError === null || Date.now() - this.#lastAttempt >= this.#options.discoveryRetry * 1000;
      if (!due) throw this.#unavailable();
      this.#pending = this.#discover().finally(() => {
        this.#pending = null;
      });
    }
    try {
      return await this.#pending;
    } catch {
      throw this.#unavailable();
    }
  }

  /** Stops retrying and closes the HTTP agent. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#pending?.catch(() => undefined);
    await this.#agent.close();
  }

  async #discover(): Promise<DiscoveredProvider> {
    const options = this.#options;
    this.#lastAttempt = Date.now();
    const url = `${options.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    try {
      const config = await oidc.discovery(new URL(options.issuer), options.clientId, clientMetadata(options), clientAuth(options), {
        [oidc.customFetch]: this.#fetch,
        timeout: options.timeout,
        // The config refuses http:// unless allow_insecure_http says otherwise.
        execute: options.allowInsecureHttp ? [oidc.allowInsecureRequests] : [],
      });
      const metadata = config.serverMetadata();
      const jwksUri = metadata.jwks_uri;
      const jwks =
        jwksUri === undefined
          ? null
          : createRemoteJWKSet(new URL(jwksUri), {
              cooldownDuration: options.jwksCooldown * 1000,
              timeoutDuration: options.timeout * 1000,
              [joseCustomFetch]: this.#fetch,
            });
      if (jwks === null) this.#logger?.warn({ issuer: options.issuer }, 'auth: the identity provider publishes no jwks_uri: bearer JWTs will be refused');
      if (this.#lastError !== null) this.#logger?.info({ issuer: options.issuer }, 'auth: OpenID Connect discovery succeeded; logins are available again');
      this.#discovered = { config, issuer: metadata.issuer, jwks };
      this.#lastError = null;
      return this.#discovered;
    } catch (error) {
      const failure = classifyProviderError(error, options.timeout);
      const reason = failure.kind === 'refused' ? `the provider answered ${failure.error}` : failure.reason;
      const first = this.#lastError === null;
      this.#lastError = reason;
      this.#logger?.[first ? 'error' : 'warn'](
        { issuer: options.issuer, url, reason },
        `auth: OpenID Connect discovery at ${url} failed (${reason}); OIDC logins and bearer tokens answer 503 until it succeeds; retrying every ${options.discoveryRetry} s`,
      );
      throw error;
    }
  }

  #schedule(): void {
    if (this.#closed || this.#timer !== null || this.#discovered !== null) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.ready().catch(() => this.#schedule());
    }, this.#options.discoveryRetry * 1000);
    this.#timer.unref();
  }

  #unavailable(): FusionError {
    return new FusionError(
      'FUSION_ERR_IDP_UNAVAILABLE',
      `the identity provider ${this.#options.issuer} cannot be reached (${this.#lastError ?? 'discovery pending'}): OpenID Connect logins are unavailable for now, retry later`,
    );
  }
}

function clientMetadata(options: OidcAuthOptions): Partial<oidc.ClientMetadata> {
  return {
    [oidc.clockTolerance]: options.clockTolerance,
    ...(options.clientSecret === null ? {} : { client_secret: options.clientSecret }),
  };
}

function clientAuth(options: OidcAuthOptions): oidc.ClientAuth {
  switch (options.clientAuthMethod) {
    case 'client_secret_basic':
      return oidc.ClientSecretBasic(options.clientSecret ?? undefined);
    case 'client_secret_post':
      return oidc.ClientSecretPost(options.clientSecret ?? undefined);
    default:
      return oidc.None();
  }
}
