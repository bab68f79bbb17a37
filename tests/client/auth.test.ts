import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FusionAuthAPIClient } from '../../src/client/api/auth.js';
import { FusionClient } from '../../src/client/client.js';
import { AuthInfo, Identity } from '../../src/concept/index.js';
import { hashPassword } from '../../src/server/auth/backend/basic.js';
import type { KnexStorage } from '../../src/server/storage/knex-storage.js';
import { freshStorage } from '../helpers/storage.js';
import type { Running } from '../server/auth/harness.js';
import { silenceAudit, startAuthServer } from '../server/auth/harness.js';

const API_KEY = 'client-test-api-key-0123456789';

describe('FusionAuthAPIClient', () => {
  silenceAudit();
  let storage: KnexStorage;
  let running: Running;

  beforeAll(async () => {
    storage = await freshStorage('pglite');
    running = await startAuthServer({
      storage,
      auth: {
        backend: { basic: { users: [{ username: 'jdoe', digest: await hashPassword('pw'), groups: ['analysts'] }] } },
        clients: [{ name: 'svc', key: API_KEY }],
      },
    });
  }, 120_000);

  afterAll(async () => {
    await running?.stop();
    await storage?.close();
  });

  it('needs a client and sane login arguments', () => {
    expect(() => new FusionAuthAPIClient({} as never)).toThrow('client is required');
    const auth = running.authClient();
    expect(() => auth.login('jdoe', undefined as never)).toThrow(TypeError);
    expect(() => auth.login(42 as never)).toThrow(TypeError);
  });

  it('logs in with (username, password) or with a data object, decoding Identity', async () => {
    const a = running.authClient();
    expect(await a.login('jdoe', 'pw')).toEqual(new Identity({ username: 'jdoe', groups: ['analysts'] }));
    const b = running.authClient();
    expect((await b.login({ username: 'jdoe', password: 'pw' })).username).toBe('jdoe');
    await expect(running.authClient().login('jdoe', 'bad')).rejects.toMatchObject({ status: 401, code: 'FUSION_ERR_LOGIN_FAILED' });
  });

  it('answers isLogged with null on 401 and keeps the session across calls', async () => {
    const auth = running.authClient();
    expect(await auth.isLogged()).toBeNull();
    await auth.login('jdoe', 'pw');
    expect((await auth.isLogged())?.username).toBe('jdoe');
    expect((await auth.isLogged())?.groups).toEqual(['analysts']);
  });

  it('reads config and identities as concepts', async () => {
    const auth = running.authClient({ apiKey: API_KEY });
    expect(await auth.config()).toBeInstanceOf(AuthInfo);
    const identities = await auth.identities();
    expect(identities.every((i) => i instanceof Identity)).toBe(true);
    expect(identities.map((i) => i.username)).toContain('jdoe');
  });

  it('forgets the session on logout, even when the server refuses it', async () => {
    const client = running.client();
    const auth = new FusionAuthAPIClient({ client });
    await auth.login('jdoe', 'pw');
    await auth.logout();
    expect(client.sessionCookie).toBeNull();
    await expect(auth.logout()).rejects.toMatchObject({ status: 401 });
    expect(client.sessionCookie).toBeNull();
  });

  it('throws, rather than answering null, when the server cannot be reached', async () => {
    const client = new FusionClient({ baseUrl: 'http://127.0.0.1:9', connectTimeout: 2000 });
    try {
      await expect(new FusionAuthAPIClient({ client }).isLogged()).rejects.toMatchObject({ code: 'FUSION_ERR_CONNECTION' });
    } finally {
      await client.close();
    }
  });
});
