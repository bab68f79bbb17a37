/** The five auth routes, same paths and envelopes as edf_fusion. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AuthInfo, Identity } from '../../concept/index.js';
import { keyedListAnswer, PAGE_QUERY } from '../list-paging.js';
import type { FusionHost } from '../host.js';
import type { FusionAuthBackend } from './backend/backend.js';
import { FusionError } from '../../helper/errors.js';
import { isCrossSite } from './cross-site.js';
import type { LoginFlow } from './login-flow.js';

/** What the routes call back into. */
export interface AuthRouteHandlers {
  backend: FusionAuthBackend;
  login: LoginFlow;
  logout: (request: FastifyRequest, identity: Identity) => Promise<void>;
}

/** Body of POST /api/auth/login: `{"data": {...}}`, `data` being the backend's (basic: username, password). */
export const LOGIN_BODY_SCHEMA = {
  type: 'object',
  required: ['data'],
  properties: { data: { type: 'object', description: 'backend-specific credentials; basic: {username, password}' } },
} as const;

const SESSION_COOKIE_HEADER = { type: 'string', description: 'the session cookie (named auth.cookie.name; attributes from auth.cookie: HttpOnly, SameSite, Secure)' };
const CLEARED_COOKIE_HEADER = { type: 'string', description: 'clears the session cookie (expired, empty value)' };

/** Adds GET is_logged, POST login, GET logout, GET config and GET identities under /api/auth. */
export function addAuthRoutes(app: FastifyInstance, server: FusionHost, handlers: AuthRouteHandlers): void {
  const identitySchema = Identity.jsonSchema({ mode: 'output' });
  server.route(
    app,
    { method: 'GET', url: '/api/auth/is_logged', operation: 'is_logged', response: identitySchema, summary: 'Who am I: the caller identity' },
    async ({ identity }) => identity,
  );
  server.route(
    app,
    {
      method: 'POST',
      url: '/api/auth/login',
      operation: 'login',
      public: true,
      body: LOGIN_BODY_SCHEMA,
      response: identitySchema,
      errors: ['FUSION_ERR_LOGIN_FAILED', 'FUSION_ERR_RATE_LIMITED', 'FUSION_ERR_UNAVAILABLE', 'FUSION_ERR_IDP_UNAVAILABLE'],
      responseHeaders: { 'Set-Cookie': SESSION_COOKIE_HEADER },
      summary: 'Log in; sets the session cookie',
    },
    async ({ body, request, reply }) => handlers.login.run((body as { data: unknown }).data, request, reply),
  );
  server.route(
    app,
    {
      method: 'GET',
      url: '/api/auth/logout',
      operation: 'logout',
      responseHeaders: { 'Set-Cookie': CLEARED_COOKIE_HEADER },
      summary: 'Log out: ends the session and clears its cookie (as edf_fusion; refused when a browser says another site asks)',
    },
    async ({ request, identity }) => {
      if (isCrossSite(request)) {
        throw new FusionError('FUSION_ERR_FORBIDDEN', 'logout: refused for a cross-site request (Sec-Fetch-Site / Origin); use POST /api/auth/logout from this site');
      }
      return handlers.logout(request, identity);
    },
  );
  server.route(
    app,
    {
      method: 'POST',
      url: '/api/auth/logout',
      operation: 'logout',
      responseHeaders: { 'Set-Cookie': CLEARED_COOKIE_HEADER },
      summary: 'Log out: ends the session and clears its cookie',
    },
    async ({ request, identity }) => handlers.logout(request, identity),
  );
  server.route(
    app,
    {
      method: 'GET',
      url: '/api/auth/config',
      operation: 'retrieve_config',
      public: true,
      response: AuthInfo.jsonSchema({ mode: 'output' }),
      summary: 'How to log in: the backend type and its public parameters',
    },
    async () => handlers.backend.info(),
  );
  server.route(
    app,
    {
      method: 'GET',
      url: '/api/auth/identities',
      operation: 'retrieve_identities',
      response: { type: 'array', items: identitySchema },
      query: PAGE_QUERY,
      summary: 'Identities that have logged in (pages with ?limit=&cursor=, by username)',
    },
    async ({ server: srv, query, reply }) =>
      keyedListAnswer(query, reply, (page) => (page === null ? srv.storage.enumerateIdentities() : srv.storage.enumerateIdentities(page)), (identity) => identity.username),
  );
}
