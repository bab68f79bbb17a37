/**
 * createTestServer: a whole service on 127.0.0.1 (random port) with clients ready to use, so
 * a service's test is three lines: create, call, close.
 */
import { FusionAuthAPIClient } from '../client/api/auth.js';
import { FusionCaseAPIClient } from '../client/api/case.js';
import { FusionConstantAPIClient } from '../client/api/constant.js';
import { FusionInfoAPIClient } from '../client/api/info.js';
import { FusionClient } from '../client/client.js';
import type { FusionClientOptions } from '../client/client-options.js';
import type { Case } from '../concept/index.js';
import type { FusionAPI } from '../server/api.js';
import type { FusionCaseClass } from '../server/case/context.js';
import { parseConfig } from '../server/config.js';
import type { FusionConfig, SectionParser } from '../server/config.js';
import { FusionServer } from '../server/server.js';
import type { StorageMigration } from '../server/storage/migrations.js';
import type { FusionStorage } from '../server/storage/storage.js';
import { DEFAULT_TEST_USER, defaultTestConfig, ensureTestIdentities, mergeConfig, randomApiKey } from './test-config.js';
import type { TestUser } from './test-config.js';

/** Options of createTestServer. */
export interface TestServerOptions<C extends Case = Case> {
  /** Config document (snake_case) merged over the defaults; `null` removes a key or a whole section (`{ case: null }`). */
  config?: Record<string, unknown>;
  /** The service's APIs: each replaces the built-in of the same name, the others mount after the built-ins. */
  apis?: FusionAPI[];
  /** Mount the built-in APIs whose sections are present (default true). */
  builtins?: boolean;
  /** The service's Case subclass (server and case API decode with it; `clients.*.case` too). */
  caseClass?: FusionCaseClass<C>;
  /** Users with known passwords (hashed at startup); `clients.user` logs in as the first. Default: user / user-password, groups [users]. */
  users?: TestUser[];
  /** An open storage to use instead of `storage.url` (left open by close()). */
  storage?: FusionStorage;
  /** The service's migrations. */
  migrations?: readonly StorageMigration[];
  /** Parsers of the service's own config sections (results in `server.config.extra`). */
  sections?: Record<string, SectionParser>;
  /** Environment for `{ env: NAME }` config values (default: none, so tests do not depend on the shell). */
  env?: Readonly<Record<string, string | undefined>>;
}

/** One FusionClient and an API client per built-in API on it. */
export interface TestClients<C extends Case = Case> {
  client: FusionClient;
  auth: FusionAuthAPIClient;
  case: FusionCaseAPIClient<C>;
  info: FusionInfoAPIClient;
  constant: FusionConstantAPIClient;
}

/** A running test server and its clients; always `await close()`. */
export interface TestServer<C extends Case = Case> {
  server: FusionServer;
  /** `http://127.0.0.1:PORT`. */
  baseUrl: string;
  /** The parsed configuration. */
  config: FusionConfig;
  /** The key of API-key client `service`. */
  apiKey: string;
  /** The users with known passwords (the first is `clients.user`). */
  users: TestUser[];
  clients: {
    /** Logged in as the first user (when the auth API uses the basic backend). */
    user: TestClients<C>;
    /** Authenticated with the API key (a managed, service-to-service identity). */
    service: TestClients<C>;
    /** No credentials. */
    anonymous: TestClients<C>;
  };
  /** New clients with the given FusionClient options (baseUrl preset); closed by close(). */
  connect(options?: Omit<FusionClientOptions, 'baseUrl'>): TestClients<C>;
  /** New clients logged in as `username` (password from `users` unless given). */
  login(username: string, password?: string): Promise<TestClients<C>>;
  /** Closes every client, then the server (and the storage it opened). Idempotent. */
  close(): Promise<void>;
}

async function mountedApis(config: FusionConfig, options: TestServerOptions<Case>): Promise<FusionAPI[]> {
  const given = options.apis ?? [];
  let apis: FusionAPI[] = [];
  if (options.builtins !== false) {
    const { apisFromSections } = await import('../server/builtin-sections.js');
    apis = await apisFromSections(config);
  }
  const byName = new Map(given.map((api) => [api.name, api]));
  const merged = apis.map((api) => {
    const replacement = byName.get(api.name);
    byName.delete(api.name);
    return replacement ?? api;
  });
  return [...merged, ...given.filter((api) => byName.has(api.name))];
}

/** Starts a service for a test: built-in APIs plus `apis`, defaults merged with `config`, clients ready. */
export async function createTestServer<C extends Case = Case>(options: TestServerOptions<C> = {}): Promise<TestServer<C>> {
  const users = (options.users ?? [DEFAULT_TEST_USER]).map((user) => ({ ...user, groups: [...(user.groups ?? [])] }));
  const apiKey = randomApiKey();
  const document = await ensureTestIdentities(mergeConfig(await defaultTestConfig(users, apiKey), options.config ?? {}), users, apiKey);
  const config = parseConfig(document, { env: options.env ?? {}, ...(options.sections ? { sections: options.sections } : {}) });
  const server = new FusionServer({
    config,
    apis: await mountedApis(config, options as TestServerOptions<Case>),
    ...(options.caseClass ? { caseClass: options.caseClass } : {}),
    ...(options.storage ? { storage: options.storage } : {}),
    ...(options.migrations ? { migrations: options.migrations } : {}),
  });
  const opened: FusionClient[] = [];
  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      await Promise.allSettled(opened.map((client) => client.close()));
      await server.close();
    })();
    return closing;
  };
  let baseUrl: string;
  try {
    baseUrl = await server.listen({ host: '127.0.0.1', port: 0 });
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
  const connect = (clientOptions: Omit<FusionClientOptions, 'baseUrl'> = {}): TestClients<C> => {
    const client = new FusionClient({ ...clientOptions, baseUrl, cookieName: clientOptions.cookieName ?? config.auth?.cookie.name });
    opened.push(client);
    return {
      client,
      auth: new FusionAuthAPIClient({ client }),
      case: new FusionCaseAPIClient<C>({ client, ...(options.caseClass ? { caseClass: options.caseClass } : {}) }),
      info: new FusionInfoAPIClient({ client }),
      constant: new FusionConstantAPIClient({ client }),
    };
  };
  const login = async (username: string, password?: string): Promise<TestClients<C>> => {
    const known = password ?? users.find((user) => user.username === username)?.password;
    if (known === undefined) throw new TypeError(`createTestServer: no password known for ${username}: pass it, or list the user in options.users`);
    const clients = connect();
    await clients.auth.login(username, known);
    return clients;
  };
  try {
    const canLogin = server.apis.some((api) => api.name === 'auth') && config.auth?.backend.strategy === 'basic' && users.length > 0;
    const user = canLogin ? await login(users[0]!.username) : connect();
    return {
      server,
      baseUrl,
      config,
      apiKey,
      users,
      clients: { user, service: connect({ apiKey }), anonymous: connect() },
      connect,
      login,
      close,
    };
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
}
