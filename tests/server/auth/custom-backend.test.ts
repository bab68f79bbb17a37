/** The custom-backend example of docs/auth.md, run for real. Keep the two in step. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FusionAuthAPIClient } from '../../../src/client/api/auth.js';
import { AuthInfo, Identity } from '../../../src/concept/index.js';
import type { ConfigReader } from '../../../src/helper/config.js';
import { FusionError } from '../../../src/helper/errors.js';
import { ApiKeyMatcher } from '../../../src/server/auth/api-keys.js';
import { FusionAuthBackend } from '../../../src/server/auth/backend/backend.js';
import type { AuthSession } from '../../../src/server/auth/backend/backend.js';
import { registerAuthBackend } from '../../../src/server/auth/backend/registry.js';
import type { KnexStorage } from '../../../src/server/storage/knex-storage.js';
import { freshStorage } from '../../helpers/storage.js';
import type { Running } from './harness.js';
import { raw, silenceAudit, startAuthServer } from './harness.js';

// --- the example, as in docs/auth.md ------------------------------------------------------

interface StaticToken {
  name: string;
  token: string;
  groups: string[];
}

/** Logs in with a personal token from the config: `{"data": {"token": "..."}}`. */
class StaticTokenBackend extends FusionAuthBackend {
  readonly strategy = 'static_token';
  readonly #tokens: ApiKeyMatcher; // constant-time lookup of the token's owner
  readonly #groups: Map<string, string[]>;
  readonly #revoked = new Set<string>();

  constructor(options: { tokens: StaticToken[] }) {
    super();
    this.#tokens = new ApiKeyMatcher(options.tokens.map((t) => ({ name: t.name, key: t.token })));
    this.#groups = new Map(options.tokens.map((t) => [t.name, t.groups]));
  }

  async info(): Promise<AuthInfo> {
    return new AuthInfo({ type: 'static_token', parameters: {} });
  }

  override loginSubject(data: unknown): string | null {
    const token = (data as { token?: unknown } | null)?.token;
    if (typeof token !== 'string' || token.length === 0 || token.length > 512) {
      throw new FusionError('FUSION_ERR_VALIDATION', 'data.token: expected a string of 1 to 512 characters');
    }
    return null; // no username to rate-limit by: the client address limit applies
  }

  async login(data: unknown, _request: unknown, session: AuthSession): Promise<Identity | null> {
    this.loginSubject(data);
    const name = this.#tokens.match((data as { token: string }).token);
    if (name === null || this.#revoked.has(name)) return null;
    session.setData({ loggedInAt: new Date().toISOString() }); // kept in the session row
    return new Identity({ username: name, groups: this.#groups.get(name) ?? [] });
  }

  async isLogged(identity: Identity, session: AuthSession): Promise<Identity | null> {
    if (this.#revoked.has(identity.username) || typeof session.data.loggedInAt !== 'string') return null;
    return identity;
  }

  /** Ends every session of `name` at its next request. */
  revoke(name: string): void {
    this.#revoked.add(name);
  }
}

registerAuthBackend('static_token', {
  parseConfig: (reader: ConfigReader) => ({
    tokens: reader.list('tokens').map((item) => ({
      name: item.string('name', { minLength: 1 }),
      token: item.string('token', { minLength: 16, secret: true }),
      groups: item.stringList('groups'),
    })),
  }),
  create: (options: { tokens: StaticToken[] }) => new StaticTokenBackend(options),
});

// --- the tests ------------------------------------------------------------------------------

const TOKEN = 'a-personal-token-of-jdoe-0123456789';

describe('a custom backend (static tokens)', () => {
  silenceAudit();
  let storage: KnexStorage;
  let running: Running;

  beforeAll(async () => {
    storage = await freshStorage('pglite');
    running = await startAuthServer({
      storage,
      auth: {
        backend: { strategy: 'static_token', static_token: { tokens: [{ name: 'jdoe', token: { env: 'JDOE_TOKEN' }, groups: ['soc'] }] } },
      },
      env: { JDOE_TOKEN: TOKEN },
    });
  }, 120_000);

  afterAll(async () => {
    await running?.stop();
    await storage?.close();
  });

  it('is chosen by auth.backend.strategy and describes itself on GET config', async () => {
    expect(running.auth.backend).toBeInstanceOf(StaticTokenBackend);
    expect((await running.authClient().config()).toJSON()).toEqual({ type: 'static_token', parameters: {} });
  });

  it('logs in with its own data, keeps its session data, and can end sessions', async () => {
    const client = running.client();
    const auth = new FusionAuthAPIClient({ client });
    await expect(auth.login({ token: 'wrong-token-0123456789' })).rejects.toMatchObject({ status: 401 });
    await expect(auth.login({ token: 42 })).rejects.toMatchObject({ status: 400 });
    expect((await auth.login({ token: TOKEN })).toJSON()).toEqual({ username: 'jdoe', groups: ['soc'] });
    const row = await storage.retrieveSession(client.sessionCookie!);
    expect(row?.data).toEqual({ loggedInAt: expect.any(String) });
    expect((await auth.isLogged())?.username).toBe('jdoe');
    (running.auth.backend as StaticTokenBackend).revoke('jdoe');
    expect(await auth.isLogged()).toBeNull();
    expect((await raw(running.baseUrl, 'GET', '/api/auth/identities')).status).toBe(401);
  });
});
