/** Client twin of FusionAuthAPI: login, is_logged, logout, config, identities. */
import { AuthInfo, Identity } from '../../concept/index.js';
import { collectPages, listPages } from '../list-pages.js';
import type { PageOptions } from '../list-pages.js';
import type { FusionClient } from '../client.js';
import { isFusionClientError } from '../errors.js';

/** Options of FusionAuthAPIClient. */
export interface FusionAuthAPIClientOptions {
  client: FusionClient;
}

/** Logs in and out of a service; the FusionClient's cookie jar keeps the session between calls. */
export class FusionAuthAPIClient {
  readonly #client: FusionClient;

  constructor(options: FusionAuthAPIClientOptions) {
    if (!options?.client) throw new TypeError('FusionAuthAPIClient: client is required');
    this.#client = options.client;
  }

  /** POST /api/auth/login with basic credentials, or with a backend's own `data`; returns who logged in. */
  login(username: string, password: string): Promise<Identity>;
  login(data: Record<string, unknown>): Promise<Identity>;
  login(usernameOrData: string | Record<string, unknown>, password?: string): Promise<Identity> {
    let data: Record<string, unknown>;
    if (typeof usernameOrData === 'string') {
      if (typeof password !== 'string') throw new TypeError('FusionAuthAPIClient.login: password must be a string');
      data = { username: usernameOrData, password };
    } else if (typeof usernameOrData === 'object' && usernameOrData !== null && !Array.isArray(usernameOrData)) {
      data = usernameOrData;
    } else {
      throw new TypeError('FusionAuthAPIClient.login: pass (username, password) or a data object');
    }
    return this.#client.requestConcept('POST', '/api/auth/login', Identity, { body: { data } });
  }

  /** GET /api/auth/is_logged: the caller's Identity, or null when the server answers 401. */
  async isLogged(): Promise<Identity | null> {
    try {
      return await this.#client.getConcept('/api/auth/is_logged', Identity);
    } catch (error) {
      if (isFusionClientError(error) && error.status === 401) return null;
      throw error;
    }
  }

  /** GET /api/auth/logout, then forgets the session cookie (even when the server refused). */
  async logout(): Promise<void> {
    try {
      await this.#client.get('/api/auth/logout');
    } finally {
      this.#client.clearSession();
    }
  }

  /** GET /api/auth/config: the backend type and its public parameters. */
  config(): Promise<AuthInfo> {
    return this.#client.getConcept('/api/auth/config', AuthInfo);
  }

  /** GET /api/auth/identities: the identities that have logged in. */
  identities(): Promise<Identity[]> {
    return this.#client.getConceptList('/api/auth/identities', Identity);
  }

  /** GET /api/auth/identities page by page (by username). */
  identityPages(options: PageOptions = {}): AsyncGenerator<Identity[], void, undefined> {
    return listPages(this.#client, '/api/auth/identities', (item) => Identity.fromJSON(item), 'FusionAuthAPIClient.identityPages', options);
  }

  /** Every identity, fetched page by page (see identityPages()). */
  enumerateIdentities(options: PageOptions = {}): Promise<Identity[]> {
    return collectPages(this.identityPages(options));
  }
}
