/** The contract of an authentication backend (basic, OIDC, a service's own) and its session view. */
import type { FastifyRequest } from 'fastify';
import type { AuthInfo, Identity } from '../../../concept/index.js';
import type { FusionLogger } from '../../../helper/logging.js';

/**
 * How a stored session's data is re-read and saved under a lock every instance on the same
 * storage shares (the auth API provides it; a session being created at login has none).
 */
export interface AuthSessionStore {
  /** Runs `fn` while holding this session's lock. */
  locked<T>(fn: () => Promise<T>): Promise<T>;
  /** The data as stored now; null when the session no longer exists. */
  read(): Promise<Record<string, unknown> | null>;
  /** Saves `data` now. */
  write(data: Record<string, unknown>): Promise<void>;
}

/**
 * The server-side state of one login as a backend sees it. `data` is the backend's own
 * (an OIDC backend keeps its tokens there); the auth API persists it in the session row
 * whenever the backend changed it during `login` or `isLogged`.
 */
export class AuthSession {
  #data: Record<string, unknown>;
  readonly #expiresAt: Date;
  readonly #store: AuthSessionStore | null;
  #changed = false;

  constructor(data: Record<string, unknown>, expiresAt: Date, store: AuthSessionStore | null = null) {
    this.#data = { ...data };
    this.#expiresAt = expiresAt;
    this.#store = store;
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

  /**
   * Changes the data safely while other requests, on any instance, use the same session: under
   * the session's lock, re-reads the stored data, passes it to `change` and saves what `change`
   * returns (null keeps the stored data) before the lock is released. Returns the data now in
   * force, or null when the session was deleted meanwhile. For work that must happen once per
   * session, such as redeeming a refresh token. Without a store (at login) it acts on `data`.
   */
  async update(
    change: (data: Readonly<Record<string, unknown>>) => Promise<Record<string, unknown> | null>,
  ): Promise<Readonly<Record<string, unknown>> | null> {
    const store = this.#store;
    if (store === null) {
      const next = await change(this.#data);
      if (next !== null) this.setData(next);
      return this.#data;
    }
    return store.locked(async () => {
      const current = await store.read();
      if (current === null) return null;
      const next = await change(current);
      if (next !== null) await store.write({ ...next });
      this.#data = { ...(next ?? current) };
      this.#changed = false; // what is held now is what is stored
      return this.#data;
    });
  }
}

/** What a backend gets when the server starts. */
export interface AuthBackendContext {
  /** The server's logger. */
  logger: FusionLogger;
}

/**
 * An authentication backend. `login` checks credentials (the body's `data`), `isLogged`
 * re-validates a stored session on each request (re-reading groups, refreshing tokens),
 * `logout` ends it at the identity provider if there is one. Bad shapes of `data` are
 * reported by throwing FusionError `FUSION_ERR_VALIDATION`; wrong credentials by returning null
 * (or throwing `FUSION_ERR_LOGIN_FAILED` with a more precise message: counted the same).
 */
export abstract class FusionAuthBackend {
  /** The `auth.backend.strategy` name this backend answers to. */
  abstract readonly strategy: string;

  /** What clients need to log in (GET /api/auth/config), e.g. `{type: 'basic', parameters: {}}`. */
  abstract info(): Promise<AuthInfo>;

  /** Checks the credentials in `data`; returns the Identity, or null when they are wrong. */
  abstract login(data: unknown, request: FastifyRequest, session: AuthSession): Promise<Identity | null>;

  /**
   * Re-validates a session: the (possibly updated) Identity, or null to end the session. A
   * FusionError 401 ends it too, its message telling the client why; a 503 FusionError (the
   * identity provider cannot be reached) answers 503 and keeps the session.
   */
  abstract isLogged(identity: Identity, session: AuthSession, request: FastifyRequest): Promise<Identity | null>;

  /**
   * Identifies a request by credentials it carries itself, such as `Authorization: Bearer`;
   * asked after the API key and before the session cookie. Returns null when the request holds
   * none of this backend's credentials (the cookie is checked next). Throws FusionError
   * FUSION_ERR_UNAUTHORIZED with the reason when it holds some that are not valid (401, the
   * cookie is not consulted), or a 503 FusionError when they cannot be checked now.
   */
  async authenticateRequest(_request: FastifyRequest): Promise<Identity | null> {
    return null;
  }

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
  async start(_context?: AuthBackendContext): Promise<void> {}

  /** Releases what `start` acquired. */
  async close(): Promise<void> {}
}
