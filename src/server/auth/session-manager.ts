/**
 * Sessions in storage, so any instance serves any request: a random 32-byte token (base64url)
 * travels in the session cookie, storage keeps its sha256 with the identity, the backend's
 * data and the expiry. A session lives `auth.cookie.max_age` seconds from its last renewal;
 * it is renewed (row and cookie) once less than half of that remains.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Identity } from '../../concept/index.js';
import type { FusionStorage } from '../storage/storage.js';
import { AuthSession } from './backend/backend.js';
import type { AuthSessionStore } from './backend/backend.js';
import type { CookieAttributes } from './cookie.js';
import { clearCookie, serializeCookie } from './cookie.js';

/** Shape of a token we issue: 32 random bytes in base64url (43 characters). */
const TOKEN_FORMAT = /^[A-Za-z0-9_-]{43}$/;

/** A session loaded for a request. */
export interface LoadedSession {
  token: string;
  identity: Identity;
  session: AuthSession;
}

/** Creates, loads, renews and deletes sessions, and writes their cookies. */
export class SessionManager {
  readonly #storage: () => FusionStorage;
  readonly #cookie: CookieAttributes;
  readonly #now: () => number;

  constructor(storage: () => FusionStorage, cookie: CookieAttributes, options: { now?: () => number } = {}) {
    this.#storage = storage;
    this.#cookie = cookie;
    this.#now = options.now ?? Date.now;
  }

  /** The cookie's name. */
  get cookieName(): string {
    return this.#cookie.name;
  }

  /** A fresh, empty backend session that would expire `max_age` from now. */
  draft(): AuthSession {
    return new AuthSession({}, this.#expiry());
  }

  /** Stores a new session for `identity` (never reusing a token the client sent); returns its token. */
  async create(identity: Identity, session: AuthSession): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    await this.#storage().createSession({ token, identity, data: { ...session.data }, expiresAt: session.expiresAt });
    return token;
  }

  /** Loads the session of `token`; null when the token is malformed, unknown or expired. */
  async load(token: string): Promise<LoadedSession | null> {
    if (!TOKEN_FORMAT.test(token)) return null;
    const row = await this.#storage().retrieveSession(token);
    if (row === null || row.expiresAt.getTime() <= this.#now()) return null;
    return { token, identity: row.identity, session: new AuthSession(row.data, row.expiresAt, this.#store(token)) };
  }

  /** Locked re-reads and writes of one session's data (AuthSession.update), shared by every instance. */
  #store(token: string): AuthSessionStore {
    const storage = this.#storage;
    const lockKey = `fusion-auth-session:${createHash('sha256').update(token, 'utf8').digest('base64url')}`;
    return {
      locked: (fn) => storage().withAdvisoryLock(lockKey, () => fn()),
      read: async () => (await storage().retrieveSession(token))?.data ?? null,
      write: (data) => storage().updateSession(token, { data }),
    };
  }

  /** True when less than half of the session's lifetime remains. */
  renewalDue(session: AuthSession): boolean {
    return session.expiresAt.getTime() - this.#now() < (this.#cookie.maxAge * 1000) / 2;
  }

  /**
   * Saves what changed in a loaded session: a new identity, the backend's data, and (when
   * `renew`) a new expiry `max_age` from now. Returns the new expiry when renewed.
   */
  async save(loaded: LoadedSession, changes: { identity?: Identity; renew: boolean }): Promise<Date | null> {
    const patch: { identity?: Identity; data?: Record<string, unknown>; expiresAt?: Date } = {};
    if (changes.identity !== undefined) patch.identity = changes.identity;
    if (loaded.session.changed) patch.data = { ...loaded.session.data };
    const expiresAt = changes.renew ? this.#expiry() : null;
    if (expiresAt !== null) patch.expiresAt = expiresAt;
    if (Object.keys(patch).length > 0) await this.#storage().updateSession(loaded.token, patch);
    return expiresAt;
  }

  /** Deletes the session of `token` (logout, or a backend that no longer knows the user). */
  async delete(token: string): Promise<void> {
    if (TOKEN_FORMAT.test(token)) await this.#storage().deleteSession(token);
  }

  /** The `Set-Cookie` value carrying `token`. */
  setCookie(token: string): string {
    return serializeCookie(token, this.#cookie);
  }

  /** The `Set-Cookie` value removing the cookie. */
  clearCookie(): string {
    return clearCookie(this.#cookie);
  }

  #expiry(): Date {
    return new Date(this.#now() + this.#cookie.maxAge * 1000);
  }
}
