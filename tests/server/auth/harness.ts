/** Test harness for the auth API: a real FusionServer on port 0 with extra probe routes. */
import { afterAll, beforeAll } from '@jest/globals';
import type { FastifyInstance } from 'fastify';
import { request } from 'undici';
import { FusionClient } from '../../../src/client/client.js';
import { FusionAuthAPIClient } from '../../../src/client/api/auth.js';
import { setAuditSink } from '../../../src/helper/tracing.js';
import { FusionAPI } from '../../../src/server/api.js';
import type { AuthorizeHook } from '../../../src/server/auth/impl.js';
import { FusionAuthAPI } from '../../../src/server/auth/impl.js';
import type { FusionAuthBackend } from '../../../src/server/auth/backend/backend.js';
import { parseConfig } from '../../../src/server/config.js';
import { FusionServer } from '../../../src/server/server.js';
import type { FusionStorage } from '../../../src/server/storage/storage.js';

/** Extra routes to probe the authorizer: a plain op, a delete op, a refused op, and isManaged. */
export class ProbeAPI extends FusionAPI {
  readonly name = 'probe';

  setup(app: FastifyInstance, server: FusionServer): void {
    server.route(app, { method: 'GET', url: '/api/probe/op', operation: 'probe_op' }, ({ identity }) => ({
      username: identity.username,
      managed: server.authorizer?.isManaged(identity) ?? false,
    }));
    server.route(app, { method: 'DELETE', url: '/api/probe/thing', operation: 'delete_thing', deleteOp: true }, () => 'deleted');
    server.route(app, { method: 'GET', url: '/api/probe/refused', operation: 'refused_op' }, () => 'never');
    server.route(app, { method: 'GET', url: '/api/probe/throws', operation: 'throwing_op' }, () => 'never');
  }
}

/** The probe's hook: refuses refused_op, throws on throwing_op, grants the rest. */
export const probeHook: AuthorizeHook = (_identity, _request, context) => {
  if (context.operation === 'throwing_op') throw new Error('hook exploded');
  return context.operation !== 'refused_op';
};

/** A running server and how to reach it. */
export interface Running {
  server: FusionServer;
  auth: FusionAuthAPI;
  baseUrl: string;
  /** A new FusionClient (close it, or use `clients` which `stop` closes). */
  client(options?: { apiKey?: string }): FusionClient;
  /** A new auth client on a new FusionClient. */
  authClient(options?: { apiKey?: string }): FusionAuthAPIClient;
  stop(): Promise<void>;
}

/** Starts a FusionServer with the auth API (built from `auth`) and the probe API on 127.0.0.1:0. */
export async function startAuthServer(options: {
  auth: Record<string, unknown>;
  storage: FusionStorage;
  hook?: AuthorizeHook;
  backend?: FusionAuthBackend;
  env?: Record<string, string>;
}): Promise<Running> {
  const config = parseConfig({ server: { log_level: 'silent', docs: false }, auth: options.auth }, { env: options.env ?? {} });
  const auth = new FusionAuthAPI({
    authorize: options.hook ?? probeHook,
    ...(options.backend ? { backend: options.backend } : {}),
  });
  const server = new FusionServer({ config, storage: options.storage, apis: [auth, new ProbeAPI()] });
  const baseUrl = await server.listen({ host: '127.0.0.1', port: 0 });
  const clients: FusionClient[] = [];
  const client = (clientOptions: { apiKey?: string } = {}): FusionClient => {
    const made = new FusionClient({ baseUrl, ...clientOptions });
    clients.push(made);
    return made;
  };
  return {
    server,
    auth,
    baseUrl,
    client,
    authClient: (clientOptions) => new FusionAuthAPIClient({ client: client(clientOptions) }),
    stop: async () => {
      await Promise.all(clients.map((c) => c.close()));
      await server.close();
    },
  };
}

/** A raw HTTP answer: status, headers, parsed JSON body. */
export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

/** Sends one request with undici (no cookie jar: the test controls every header). */
export async function raw(
  baseUrl: string,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  options: { headers?: Record<string, string>; body?: string } = {},
): Promise<RawAnswer> {
  const response = await request(`${baseUrl}${path}`, { method, headers: options.headers, body: options.body });
  const text = await response.body.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { text };
  }
  return { status: response.statusCode, headers: response.headers, body };
}

/** POSTs a JSON login body; returns the answer and the session token of its Set-Cookie (or null). */
export async function rawLogin(baseUrl: string, data: unknown, cookieName = 'FUSION_SESSION'): Promise<RawAnswer & { token: string | null }> {
  const answer = await raw(baseUrl, 'POST', '/api/auth/login', {
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ data }),
  });
  return { ...answer, token: sessionToken(answer.headers['set-cookie'], cookieName) };
}

/** The value of cookie `name` in Set-Cookie headers, or null ('' when cleared). */
export function sessionToken(setCookie: string | string[] | undefined, name = 'FUSION_SESSION'): string | null {
  for (const line of [setCookie ?? []].flat()) {
    const match = new RegExp(`^${name}=([^;]*)`).exec(line);
    if (match) return match[1]!;
  }
  return null;
}

/** Keeps this test file's audit lines off the console (call at the top of a describe). */
export function silenceAudit(): void {
  beforeAll(() => setAuditSink({ info: () => undefined, warn: () => undefined }));
  afterAll(() => setAuditSink(undefined));
}
