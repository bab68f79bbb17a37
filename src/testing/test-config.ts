/**
 * The configuration createTestServer starts from: loopback, silent, in-memory storage, basic
 * auth with known users (digests made at startup with cheap argon2 costs) and one API key.
 */
import { randomBytes } from 'node:crypto';
import { hash } from '@node-rs/argon2';

/** A user the test server knows the password of. */
export interface TestUser {
  username: string;
  password: string;
  /** Groups (default none). */
  groups?: string[];
}

/** The user `clients.user` logs in as unless `users` says otherwise. */
export const DEFAULT_TEST_USER: Readonly<Required<TestUser>> = Object.freeze({ username: 'user', password: 'user-password', groups: ['users'] });

/** Name of the API-key client `clients.service` authenticates as. */
export const TEST_SERVICE_CLIENT = 'service';

/** argon2id costs for test digests: fast (a real config keeps hashPassword's costs). */
const TEST_DIGEST_COSTS = { memoryCost: 1024, timeCost: 1, parallelism: 1 } as const;

type Mapping = Record<string, unknown>;

function isMapping(value: unknown): value is Mapping {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Deep merge for config documents: mappings merge key by key; lists and scalars replace; null
 * removes the key (a whole section with `{ case: null }`; write `{}` for a section with its defaults).
 */
export function mergeConfig(base: Mapping, override: Mapping): Mapping {
  const out: Mapping = { ...base };
  for (const [key, value] of Object.entries(override)) {
    if (value === undefined) continue;
    if (value === null) {
      delete out[key];
      continue;
    }
    const current = out[key];
    out[key] = isMapping(current) && isMapping(value) ? mergeConfig(current, value) : value;
  }
  return out;
}

/** A random API key (32 base64url characters). */
export function randomApiKey(): string {
  return randomBytes(24).toString('base64url');
}

/** The default document (before the caller's overrides); `users` are hashed now. */
export async function defaultTestConfig(users: readonly TestUser[], apiKey: string): Promise<Mapping> {
  return {
    server: { host: '127.0.0.1', port: 0, log_level: 'silent', log_requests: false, docs: false },
    storage: { url: 'memory://' },
    auth: {
      backend: { strategy: 'basic', basic: { users: await hashUsers(users) } },
      clients: [{ name: TEST_SERVICE_CLIENT, key: apiKey }],
      can_delete_acs: [...DEFAULT_TEST_USER.groups],
      rate_limit: { max_per_client: 0, max_per_username: 0 },
    },
    info: { api: 'test' },
    case: {},
  };
}

/**
 * After merging: makes sure the basic backend lists every test user and `auth.clients` holds
 * the test API key, even when the overrides replaced those lists.
 */
export async function ensureTestIdentities(document: Mapping, users: readonly TestUser[], apiKey: string): Promise<Mapping> {
  const auth = document.auth;
  if (!isMapping(auth)) return document;
  const next: Mapping = { ...auth };
  const backend = auth.backend;
  if (isMapping(backend) && (backend.strategy ?? 'basic') === 'basic') {
    const basic = isMapping(backend.basic) ? backend.basic : {};
    const listed = Array.isArray(basic.users) ? basic.users : [];
    const names = new Set(listed.map((user) => (isMapping(user) ? user.username : undefined)));
    const missing = users.filter((user) => !names.has(user.username));
    next.backend = { ...backend, basic: { ...basic, users: [...listed, ...(await hashUsers(missing))] } };
  }
  const clients = Array.isArray(auth.clients) ? auth.clients : [];
  if (!clients.some((client) => isMapping(client) && client.name === TEST_SERVICE_CLIENT)) {
    next.clients = [...clients, { name: TEST_SERVICE_CLIENT, key: apiKey }];
  }
  return { ...document, auth: next };
}

async function hashUsers(users: readonly TestUser[]): Promise<Mapping[]> {
  return Promise.all(
    users.map(async (user) => ({
      username: user.username,
      digest: await hash(user.password, TEST_DIGEST_COSTS),
      groups: [...(user.groups ?? [])],
    })),
  );
}
