/**
 * A real OpenID Connect provider for tests: oidc-provider 9 on 127.0.0.1, with a confidential
 * client, a public PKCE client and a service client, users with Keycloak-style group paths,
 * a minimal login/consent interaction (passwords checked), JWT access tokens for the
 * `API_RESOURCE` resource, refresh tokens, introspection and revocation. Its signing keys
 * are generated here, so tests can also sign tokens of their own with them.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import type { JWK } from 'jose';
import type Provider from 'oidc-provider';
import type { ProviderAccount } from 'oidc-provider';
import { interaction } from './interactions.js';
import { SharedMemoryAdapter } from './provider-adapter.js';

/** The confidential client (the Fusion service itself). */
export const CLIENT_ID = 'fusion';
/** The confidential client's secret. */
export const CLIENT_SECRET = 'fusion-client-secret-0123456789abcdef';
/** The public client a browser front end would be (PKCE, no secret). */
export const PUBLIC_CLIENT_ID = 'fusion-spa';
/** A service account client (client credentials). */
export const SERVICE_CLIENT_ID = 'collector';
/** The service account client's secret. */
export const SERVICE_CLIENT_SECRET = 'collector-client-secret-0123456789abcdef';
/** The redirect URI registered for both browser clients (never fetched: the tests stop at it). */
export const REDIRECT_URI = 'https://fusion.example/callback';
/** The resource indicator that yields JWT access tokens whose audience is CLIENT_ID. */
export const API_RESOURCE = 'https://fusion.example/api';

/** One test user. */
export interface TestUser {
  username: string;
  password: string;
  groups: string[];
}

/** The users every provider knows (tests may change their groups, and restore them). */
export const USERS: TestUser[] = [
  { username: 'alice', password: 'alice-password', groups: ['/soc', '/soc/tier1'] },
  { username: 'bob', password: 'bob-password', groups: [] },
];

/** Options of startProvider. */
export interface TestProviderOptions {
  /** Access-token lifetime in seconds (default 3600). */
  accessTokenTtl?: number;
  /** Listen on this port (default: a free one). */
  port?: number;
}

/** A signing key: the private JWK (with kid and alg) tests may sign with. */
export interface SigningKey {
  kid: string;
  privateJwk: JWK;
}

/** Makes an RS256 signing key with a fresh kid. */
export async function newSigningKey(): Promise<SigningKey> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = `k-${Math.random().toString(36).slice(2, 10)}`;
  return { kid, privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' } };
}

let providerClass: Promise<typeof Provider> | null = null;

/** Runs `fn` without oidc-provider's development warnings (Node 20 runtime, in-memory adapter). */
async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (!String(args[0]).includes('oidc-provider WARNING')) warn(...args);
  };
  try {
    return await fn();
  } finally {
    console.warn = warn;
  }
}

/** Imports oidc-provider once. */
function loadProvider(): Promise<typeof Provider> {
  providerClass ??= quietly(async () => (await import('oidc-provider')).default);
  return providerClass;
}

/** A running test provider. */
export class TestProvider {
  /** The issuer, `http://127.0.0.1:PORT`. */
  readonly issuer: string;
  /** The port it listens on. */
  readonly port: number;
  /** Refresh-token grants the token endpoint answered successfully. */
  refreshes = 0;
  #keys: SigningKey[];
  #provider: Provider;
  #handler: (req: IncomingMessage, res: ServerResponse) => void;
  readonly #server: Server;
  readonly #options: TestProviderOptions;

  private constructor(server: Server, port: number, keys: SigningKey[], provider: Provider, options: TestProviderOptions) {
    this.#server = server;
    this.port = port;
    this.issuer = `http://127.0.0.1:${port}`;
    this.#keys = keys;
    this.#provider = provider;
    this.#handler = provider.callback();
    this.#options = options;
  }

  /** Starts a provider on 127.0.0.1 (a free port unless `options.port`). */
  static async start(options: TestProviderOptions = {}): Promise<TestProvider> {
    let self: TestProvider | null = null;
    const server = createServer((req, res) => {
      if (self === null) {
        res.statusCode = 503;
        res.end();
        return;
      }
      self.handle(req, res);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    const keys = [await newSigningKey()];
    const provider = await buildProvider(`http://127.0.0.1:${port}`, keys, options);
    self = new TestProvider(server, port, keys, provider, options);
    self.#watch(provider);
    return self;
  }

  /** The current signing key (first of the published set). */
  get signingKey(): SigningKey {
    return this.#keys[0]!;
  }

  /** The provider (for its Grant model and events). */
  get provider(): Provider {
    return this.#provider;
  }

  /**
   * Rotates the signing keys: a new key signs from now on; the old one stays published unless
   * `dropOld`. The provider is rebuilt on the same issuer; grants and tokens survive (SharedMemoryAdapter).
   */
  async rotateKeys(options: { dropOld?: boolean } = {}): Promise<SigningKey> {
    const key = await newSigningKey();
    this.#keys = options.dropOld ? [key] : [key, ...this.#keys];
    const provider = await buildProvider(this.issuer, this.#keys, this.#options);
    this.#watch(provider);
    this.#provider = provider;
    this.#handler = provider.callback();
    return key;
  }

  /** Stops listening and closes open connections. */
  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  /** Serves one request: the interaction pages here, everything else by oidc-provider. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    if (req.url?.startsWith('/interaction/')) {
      interaction(this.#provider, USERS, req, res).catch((error: unknown) => {
        res.statusCode = 500;
        res.end(String(error));
      });
      return;
    }
    this.#handler(req, res);
  }

  #watch(provider: Provider): void {
    provider.on('grant.success', (ctx: { oidc: { params?: { grant_type?: unknown } } }) => {
      if (ctx.oidc.params?.grant_type === 'refresh_token') this.refreshes += 1;
    });
  }
}

function account(username: string): ProviderAccount | undefined {
  const user = USERS.find((u) => u.username === username);
  if (user === undefined) return undefined;
  return {
    accountId: user.username,
    claims: () => ({ sub: user.username, preferred_username: user.username, name: user.username.toUpperCase(), groups: [...user.groups] }),
  };
}

async function buildProvider(issuer: string, keys: SigningKey[], options: TestProviderOptions): Promise<Provider> {
  const ProviderClass = await loadProvider();
  const ttl = options.accessTokenTtl ?? 3600;
  return quietly(async () => new ProviderClass(issuer, {
    adapter: (model: string) => new SharedMemoryAdapter(model),
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        redirect_uris: [REDIRECT_URI],
        grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
      {
        client_id: PUBLIC_CLIENT_ID,
        redirect_uris: [REDIRECT_URI],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
      },
      {
        client_id: SERVICE_CLIENT_ID,
        client_secret: SERVICE_CLIENT_SECRET,
        redirect_uris: [],
        grant_types: ['client_credentials'],
        response_types: [],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    jwks: { keys: keys.map((k) => k.privateJwk) },
    cookies: { keys: ['test-provider-cookie-signing-key-0123456789'] },
    findAccount: (_ctx: unknown, id: string) => account(id),
    claims: { openid: ['sub'], profile: ['preferred_username', 'name'], groups: ['groups'] },
    scopes: ['openid', 'offline_access', 'profile', 'groups', 'api'],
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true, allowedPolicy: () => true },
      revocation: { enabled: true, allowedPolicy: () => true },
      resourceIndicators: {
        enabled: true,
        defaultResource: (_ctx: unknown, _client: unknown, oneOf?: string) => oneOf,
        useGrantedResource: () => false,
        getResourceServerInfo: (_ctx: unknown, resource: string) => {
          if (resource !== API_RESOURCE) throw new Error(`unknown resource ${resource}`);
          return { scope: 'api', audience: CLIENT_ID, accessTokenTTL: ttl, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } };
        },
      },
    },
    ttl: { AccessToken: ttl, ClientCredentials: ttl, IdToken: 3600, RefreshToken: 86_400, Grant: 86_400, Session: 86_400, Interaction: 600 },
    issueRefreshToken: (_ctx: unknown, client: { grantTypeAllowed(type: string): boolean }) => client.grantTypeAllowed('refresh_token'),
    pkce: { required: (_ctx: unknown, client: { clientAuthMethod: string }) => client.clientAuthMethod === 'none' },
    extraTokenClaims: (_ctx: unknown, token: { kind: string; accountId?: string; clientId?: string }) => {
      if (token.accountId !== undefined) {
        const user = USERS.find((u) => u.username === token.accountId);
        return user ? { preferred_username: user.username, groups: [...user.groups] } : undefined;
      }
      return { preferred_username: `service-account-${token.clientId ?? 'unknown'}`, groups: ['/services'] };
    },
  }));
}
