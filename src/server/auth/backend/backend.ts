/** The contract of an authentication backend (basic, OIDC, a service's own) and its session view. */
import type { FastifyRequest } from 'fastify';
import type { AuthInfo, Identity } from '../../../concept/index.js';

/**
 * The server-side state of one login as a backend sees it. `data` is the backend's own
 * (an OIDC backend keeps its tokens there); the auth API persists it in the session row
 * whenever the backend changed it during `login` or `isLogged`.
 */
export class AuthSession {
  #data: Record<string, unknown>;
  readonly #expiresAt: Date;
  #changed = false;

  constructor(data: Record<string, unknown>, expiresAt: Date) {
    this.#data = { ...data };
    this.#expiresAt = expiresAt;
  }

  /** The backend's data (JSON-serializable values only). */
  get data(): Readonly<Record<string, unknown>> {
    return this.#data;
  }

  /** When the session ends unless renewed (the auth API renews it; a backend ends it by returning null from isLogged). */
  get expiresAt(): Date {
    return this.#expiresAt;
  }

  /** True when `setData` was called since the session was loaded. */
  get changed(): boolean {
    return this.#changed;
  }

  /** Replaces the backend's data (e.g. refreshed tokens); saved with the session. */
  setData(data: Record<string, unknown>): void {
    this.#data = { ...data };
    this.#changed = true;
  }
}

/**
 * An authentication backend. `login` checks credentials (the body's `data`), `isLogged`
 * re-validates a stored session on each request (re-reading groups, refreshing tokens),
 * `logout` ends it at the identity provider if there is one. Bad shapes of `data` are
 * reported by throwing FusionError `FUSION_ERR_VALIDATION`; wrong credentials by returning null.
 */
export abstract class FusionAuthBackend {
  /** The `auth.backend.strategy` name this backend answers to. */
  abstract readonly strategy: string;

  /** What clients need to log in (GET /api/auth/config), e.g. `{type: 'basic', parameters: {}}`. */
  abstract info(): Promise<AuthInfo>;

  /** Checks the credentials in `data`; returns the Identity, or null when they are wrong. */
  abstract login(data: unknown, request: FastifyRequest, session: AuthSession): Promise<Identity | null>;

  /** Re-validates a session: the (possibly updated) Identity, or null to end the session. */
  abstract isLogged(identity: Identity, session: AuthSession, request: FastifyRequest): Promise<Identity | null>;

  /** Ends the session at the identity provider, if any; the auth API deletes the session row. */
  async logout(_identity: Identity, _session: AuthSession): Promise<void> {}

  /**
   * Checks the shape of `data` before any attempt is counted, and returns the username it tries
   * to log in as (for per-username rate limits) or null. Throws FUSION_ERR_VALIDATION on bad shapes.
   */
  loginSubject(data: unknown): string | null {
    if (data === null || typeof data !== 'object') return null;
    const username = (data as { username?: unknown }).username;
    return typeof username === 'string' && username.length > 0 ? username : null;
  }

  /** Prepares the backend (discovery, key material) before the server listens. */
  async start(): Promise<void> {}

  /** Releases what `start` acquired. */
  async close(): Promise<void> {}
}
