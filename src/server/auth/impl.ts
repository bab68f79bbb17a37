/**
 * FusionAuthAPI: the auth routes (is_logged, login, logout, config, identities) and the
 * authorizer every other route asks (`server.authorizer`): API key, then the backend's own
 * request credentials (e.g. a bearer token), then session cookie and backend, then delete
 * privilege, then the service's hook — every decision traced.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Identity } from '../../concept/index.js';
import type { Case } from '../../concept/index.js';
import { FusionError, isFusionError } from '../../helper/errors.js';
import { FusionAPI } from '../api.js';
import type { FusionHost } from '../host.js';
import { identityCanAccessCase, intersects } from './access.js';
import { API_TOKEN_HEADER, ApiKeyMatcher } from './api-keys.js';
import type { AuthorizeContext, FusionAuthorizer } from './authorizer.js';
import type { FusionAuthBackend } from './backend/backend.js';
import { createAuthBackend } from './backend/registry.js';
import type { FusionAuthConfig } from './config.js';
import { readCookie } from './cookie.js';
import { LoginFlow } from './login-flow.js';
import { addAuthRoutes } from './routes.js';
import type { LoadedSession } from './session-manager.js';
import { SessionManager } from './session-manager.js';
import { traceDecision } from './trace.js';

/** The service's authorization step: true grants; false or a throw refuses (403). `context.operation` names the operation. */
export type AuthorizeHook = (identity: Identity, request: FastifyRequest, context: AuthorizeContext & { operation: string }) => Promise<boolean> | boolean;

/** Options of FusionAuthAPI. */
export interface FusionAuthAPIOptions {
  /** The parsed `auth` section; default: the server's `config.auth`. */
  config?: FusionAuthConfig;
  /** A backend instance instead of the one `auth.backend.strategy` names. */
  backend?: FusionAuthBackend;
  /** The service's authorization step (or override `authorizeIdentity` in a subclass). */
  authorize?: AuthorizeHook;
}

/** What authorize learnt about a request, for logout and the session-cookie renewal. */
interface RequestAuth {
  loaded?: LoadedSession;
  setCookie?: string;
}

/** Mounts the auth routes and answers `server.authorizer`. */
export class FusionAuthAPI extends FusionAPI implements FusionAuthorizer {
  /** The API name. */
  readonly name: string = 'auth';
  readonly #options: FusionAuthAPIOptions;
  readonly #managed = new WeakSet<Identity>();
  readonly #requests = new WeakMap<FastifyRequest, RequestAuth>();
  #config: FusionAuthConfig | null = null;
  #backend: FusionAuthBackend | null = null;
  #server: FusionHost | null = null;
  #apiKeys: ApiKeyMatcher = new ApiKeyMatcher([]);
  #sessions: SessionManager | null = null;
  #login: LoginFlow | null = null;
  #timer: NodeJS.Timeout | null = null;

  constructor(options: FusionAuthAPIOptions = {}) {
    super();
    if (options.authorize !== undefined && typeof options.authorize !== 'function') {
      throw new TypeError('FusionAuthAPI: options.authorize must be a function (identity, request, context) => boolean');
    }
    this.#options = options;
  }

  /** The parsed `auth` config (after setup). */
  get config(): FusionAuthConfig {
    if (this.#config === null) throw new Error('FusionAuthAPI: config is available once the API is set up');
    return this.#config;
  }

  /** The authentication backend (after setup). */
  get backend(): FusionAuthBackend {
    if (this.#backend === null) throw new Error('FusionAuthAPI: backend is available once the API is set up');
    return this.#backend;
  }

  /**
   * Adds the routes, installs this API as the server's authorizer and the session-renewal hook.
   * Synchronous for a backend given in the options or created synchronously (`basic`); returns a
   * promise when the backend's modules are imported first (`oidc`, `keycloak`): a subclass
   * overriding setup() awaits `super.setup()` before using `backend`.
   */
  setup(app: FastifyInstance, server: FusionHost): void | Promise<void> {
    const config = this.#options.config ?? server.config.auth;
    if (config === undefined) {
      throw new FusionError('FUSION_ERR_CONFIG', "auth: FusionAuthAPI needs an 'auth' section in the config (or options.config)");
    }
    const backend = this.#options.backend ?? createAuthBackend(config.backend);
    if (backend instanceof Promise) return backend.then((created) => this.#setupWith(app, server, config, created));
    return this.#setupWith(app, server, config, backend);
  }

  #setupWith(app: FastifyInstance, server: FusionHost, config: FusionAuthConfig, backend: FusionAuthBackend): void {
    this.#config = config;
    this.#server = server;
    this.#backend = backend;
    this.#apiKeys = new ApiKeyMatcher(config.clients);
    const sessions = new SessionManager(() => server.storage, config.cookie);
    this.#sessions = sessions;
    this.#login = new LoginFlow({ server, backend: this.#backend, sessions, rateLimit: config.rateLimit });
    server.setAuthorizer(this);
    // Cookies renewed or cleared by authorize() are written on whatever route answers; a
    // root-level hook (fastify applies it to every route at ready) so other APIs need nothing.
    server.fastify.addHook('onSend', async (request, reply, payload) => {
      const setCookie = this.#requests.get(request)?.setCookie;
      if (setCookie !== undefined) reply.header('set-cookie', setCookie);
      return payload;
    });
    addAuthRoutes(app, server, {
      backend: this.#backend,
      login: this.#login,
      logout: (request, identity) => this.#logout(request, identity),
    });
  }

  /** Prepares the backend and the rate-limit table; prunes expired sessions and counters periodically. */
  override async start(server: FusionHost): Promise<void> {
    await this.backend.start({ logger: server.logger });
    await this.#login?.start();
    const prune = async (): Promise<void> => {
      try {
        await server.storage.pruneSessions();
        await this.#login?.prune();
      } catch (error) {
        server.logger.warn({ err: error }, 'auth: pruning sessions and login counters failed');
      }
    };
    this.#timer = setInterval(() => void prune(), 10 * 60_000);
    this.#timer.unref();
  }

  /** Stops the pruning timer and the backend. */
  override async close(): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    await this.#backend?.close();
  }

  /** The authorize pipeline (see the module comment); throws FUSION_ERR_UNAUTHORIZED / FUSION_ERR_FORBIDDEN. */
  async authorize(request: FastifyRequest, operation: string, context: AuthorizeContext = {}): Promise<Identity> {
    const apiKey = request.headers[API_TOKEN_HEADER];
    if (apiKey !== undefined) {
      const name = typeof apiKey === 'string' ? this.#apiKeys.match(apiKey) : null;
      if (name === null) throw this.#refuse(request, null, operation, context, 'the X-Fusion-API-Token key is not valid');
      const identity = new Identity({ username: name });
      this.#managed.add(identity);
      traceDecision(request, identity, operation, context, true);
      return identity;
    }
    const identity = await this.#requestIdentity(request, operation, context);
    if (identity === null) {
      throw this.#refuse(request, null, operation, context, 'no valid session: log in with POST /api/auth/login or send X-Fusion-API-Token');
    }
    if (context.is_delete_op === true && !intersects(this.config.canDeleteAcs, identity.acs)) {
      throw this.#refuse(request, identity, operation, context, 'delete operations need a group listed in auth.can_delete_acs');
    }
    let granted: boolean;
    try {
      granted = (await this.authorizeIdentity(identity, request, { ...context, operation })) === true;
    } catch (error) {
      this.#server?.logger.error({ err: error, operation }, 'auth: the authorize hook threw; refusing');
      granted = false;
    }
    if (!granted) throw this.#refuse(request, identity, operation, context, `operation '${operation}' is not allowed for ${identity.username}`);
    traceDecision(request, identity, operation, context, true);
    return identity;
  }

  /** The service's authorization step; default: `options.authorize`, or grant when there is none. */
  protected async authorizeIdentity(identity: Identity, request: FastifyRequest, context: AuthorizeContext & { operation: string }): Promise<boolean> {
    const hook = this.#options.authorize;
    return hook === undefined ? true : hook(identity, request, context);
  }

  /** True when `identity` may see `caseObj`: API-key identities see all; an empty acs is open. */
  canAccessCase(identity: Identity, caseObj: Case): boolean {
    return this.isManaged(identity) || identityCanAccessCase(identity, caseObj);
  }

  /** True for identities this API made from an API key (never for a user, whatever its name). */
  isManaged(identity: Identity): boolean {
    return this.#managed.has(identity);
  }

  /** The backend's request credentials, else the session cookie; a 401 or 503 from the backend is traced and thrown. */
  async #requestIdentity(request: FastifyRequest, operation: string, context: AuthorizeContext): Promise<Identity | null> {
    try {
      return (await this.backend.authenticateRequest(request)) ?? (await this.#sessionIdentity(request));
    } catch (error) {
      if (isFusionError(error) && error.status === 401) throw this.#refuse(request, null, operation, context, error.message);
      if (isFusionError(error) && error.status === 503) traceDecision(request, null, operation, context, false, error.message);
      throw error;
    }
  }

  async #sessionIdentity(request: FastifyRequest): Promise<Identity | null> {
    const sessions = this.#sessions;
    if (sessions === null) return null;
    const token = readCookie(request.headers.cookie, sessions.cookieName);
    if (token === null) return null;
    const state: RequestAuth = {};
    this.#requests.set(request, state);
    const loaded = await sessions.load(token);
    if (loaded === null) {
      state.setCookie = sessions.clearCookie();
      return null;
    }
    let identity: Identity | null;
    let reason: string | null = null;
    try {
      identity = await this.backend.isLogged(loaded.identity, loaded.session, request);
    } catch (error) {
      if (isFusionError(error) && error.status === 503) throw error; // cannot tell now: the session stays
      if (isFusionError(error) && error.status === 401) reason = error.message;
      else this.#server?.logger.error({ err: error }, 'auth: backend isLogged threw; ending the session');
      identity = null;
    }
    if (identity === null) {
      await sessions.delete(token);
      state.setCookie = sessions.clearCookie();
      if (reason !== null) throw new FusionError('FUSION_ERR_UNAUTHORIZED', reason);
      return null;
    }
    const changed = !identity.equals(loaded.identity);
    if (changed) await this.#server?.storage.storeIdentity(identity);
    const renew = sessions.renewalDue(loaded.session);
    await sessions.save(loaded, { identity: changed ? identity : undefined, renew });
    if (renew) state.setCookie = sessions.setCookie(token);
    state.loaded = { ...loaded, identity };
    return identity;
  }

  async #logout(request: FastifyRequest, identity: Identity): Promise<void> {
    const state = this.#requests.get(request);
    const loaded = state?.loaded;
    if (state === undefined || loaded === undefined || this.#sessions === null) return; // API key: nothing to end
    await this.backend.logout(identity, loaded.session);
    await this.#sessions.delete(loaded.token);
    state.setCookie = this.#sessions.clearCookie();
  }

  #refuse(request: FastifyRequest, identity: Identity | null, operation: string, context: AuthorizeContext, reason: string): FusionError {
    traceDecision(request, identity, operation, context, false, reason);
    return new FusionError(identity === null ? 'FUSION_ERR_UNAUTHORIZED' : 'FUSION_ERR_FORBIDDEN', reason);
  }
}
