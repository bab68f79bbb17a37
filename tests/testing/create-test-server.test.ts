import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { FastifyInstance } from 'fastify';
import { Case, field } from '../../src/concept/index.js';
import type { ConfigReader } from '../../src/helper/config.js';
import { FusionAPI } from '../../src/server/api.js';
import type { FusionServer } from '../../src/server/server.js';
import type { KnexStorage } from '../../src/server/storage/knex-storage.js';
import { createTestServer, mergeConfig } from '../../src/testing/index.js';
import { freshStorage } from '../helpers/storage.js';
import { silenceAudit } from '../server/case/helpers.js';

/** A service API: one route answering the caller and a value of the service's own config section. */
class GreetingAPI extends FusionAPI {
  readonly name = 'greeting';
  setup(app: FastifyInstance, server: FusionServer): void {
    server.route(app, { method: 'GET', url: '/api/greeting', operation: 'greet' }, ({ identity }) => ({
      hello: identity.username,
      word: (server.config.extra.greeting as { word: string }).word,
    }));
  }
}

const greetingSection = (reader: ConfigReader) => ({ word: reader.string('word', { default: 'hi' }) });

describe('createTestServer', () => {
  silenceAudit();

  describe('on a shared storage', () => {
    let storage: KnexStorage;

    beforeAll(async () => {
      storage = await freshStorage('pglite');
    }, 60_000);
    afterAll(async () => {
      await storage?.close();
    });

    it('logs clients.user in, authenticates clients.service by API key, leaves clients.anonymous out', async () => {
      const t = await createTestServer({ storage });
      try {
        expect((await t.clients.user.auth.isLogged())?.toJSON()).toEqual({ username: 'user', groups: ['users'] });
        expect((await t.clients.service.case.createCase({ name: 'by service' })).managed).toBe(true);
        await expect(t.clients.anonymous.case.enumerateCases()).rejects.toMatchObject({ status: 401 });
        expect((await t.clients.anonymous.info.info()).api).toBe('test');
        expect(t.config.storage.url).toBe('memory://');
        expect(t.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
        const created = await t.clients.user.case.createCase({ name: 'deletable' });
        await t.clients.user.case.deleteCase(created.guid); // the default user may delete
      } finally {
        await t.close();
      }
    });

    it('merges the config, mounts the service APIs and reads its sections; null removes a section', async () => {
      const t = await createTestServer({
        storage,
        apis: [new GreetingAPI()],
        sections: { greeting: greetingSection },
        config: { info: { api: 'greeter' }, case: null, greeting: { word: 'salut' } },
      });
      try {
        expect(await t.clients.user.client.get('/api/greeting')).toEqual({ hello: 'user', word: 'salut' });
        expect((await t.clients.user.info.info()).api).toBe('greeter');
        await expect(t.clients.user.case.enumerateCases()).rejects.toMatchObject({ status: 404, code: 'FUSION_ERR_NOT_FOUND' });
        expect(t.server.apis.map((api) => api.name)).toEqual(['auth', 'info', 'greeting']);
      } finally {
        await t.close();
      }
    });

    it('knows the passwords of `users`, keeps them when the config lists its own, and logs in by name', async () => {
      const t = await createTestServer({
        storage,
        users: [
          { username: 'ann', password: 'ann-pw', groups: ['a'] },
          { username: 'ben', password: 'ben-pw' },
        ],
        config: { auth: { backend: { basic: { users: [] } }, clients: [] } },
      });
      try {
        expect((await t.clients.user.auth.isLogged())?.username).toBe('ann');
        const ben = await t.login('ben');
        expect((await ben.auth.isLogged())?.toJSON()).toEqual({ username: 'ben', groups: [] });
        await expect(t.login('nobody')).rejects.toThrow('no password known for nobody');
        await expect(t.login('ben', 'wrong')).rejects.toMatchObject({ status: 401 });
        expect((await t.clients.service.case.createCase({ name: 'svc' })).managed).toBe(true);
      } finally {
        await t.close();
      }
    });

    it('decodes with the given caseClass on the server and in the clients', async () => {
      class ColorCase extends Case.extend('ColorCase', { color: field.string().default('red') }) {}
      const t = await createTestServer({ storage, caseClass: ColorCase });
      try {
        const created = await t.clients.user.case.createCase({ name: 'colored', color: 'teal' });
        expect(created).toBeInstanceOf(ColorCase);
        expect(created.color).toBe('teal');
      } finally {
        await t.close();
      }
    });

    it('mounts only the given APIs with builtins: false; close() is idempotent and closes the clients', async () => {
      const t = await createTestServer({ storage, builtins: false, apis: [new GreetingAPI()], sections: { greeting: greetingSection } });
      expect(t.server.apis.map((api) => api.name)).toEqual(['greeting']);
      await expect(t.clients.user.client.get('/api/greeting')).rejects.toMatchObject({ status: 401 });
      await Promise.all([t.close(), t.close()]);
      await expect(t.clients.user.client.get('/api/greeting')).rejects.toMatchObject({ code: 'FUSION_ERR_CONNECTION' });
    });
  });
});

describe('mergeConfig', () => {
  it('merges mappings deeply; lists and scalars replace; null removes; undefined is skipped', () => {
    const base = { server: { port: 0, docs: false }, auth: { clients: [{ name: 'a' }] }, case: {} };
    expect(mergeConfig(base, { server: { docs: true }, auth: { clients: [] }, case: null, info: undefined })).toEqual({
      server: { port: 0, docs: true },
      auth: { clients: [] },
    });
    expect(base.server.docs).toBe(false);
  });
});
