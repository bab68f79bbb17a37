import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Case, Identity } from '../../../src/concept/index.js';
import { FusionAPI } from '../../../src/server/api.js';
import type { AuthorizeContext } from '../../../src/server/auth/authorizer.js';
import { hashPassword } from '../../../src/server/auth/backend/basic.js';
import { FusionAuthAPI } from '../../../src/server/auth/impl.js';
import { parseConfig } from '../../../src/server/config.js';
import { FusionServer } from '../../../src/server/server.js';
import type { KnexStorage } from '../../../src/server/storage/knex-storage.js';
import { freshStorage } from '../../helpers/storage.js';
import { rawLogin, raw, silenceAudit } from './harness.js';

/** A subclass overriding the hook: suspended users are refused; it records what it saw. */
class AuditingAuthAPI extends FusionAuthAPI {
  readonly seen: (AuthorizeContext & { operation: string })[] = [];

  protected override async authorizeIdentity(identity: Identity, _request: FastifyRequest, context: AuthorizeContext & { operation: string }): Promise<boolean> {
    this.seen.push(context);
    return !identity.groups.includes('suspended');
  }
}

class CaseProbeAPI extends FusionAPI {
  readonly name = 'case-probe';

  setup(app: FastifyInstance, server: FusionServer): void {
    server.route(app, { method: 'GET', url: '/api/case/:case_guid', operation: 'retrieve_case', params: ['case_guid'] }, ({ case: c }) => c);
  }
}

describe('the authorize hook as a subclass override, with case access', () => {
  silenceAudit();
  let storage: KnexStorage;
  let server: FusionServer;
  let auth: AuditingAuthAPI;
  let baseUrl: string;
  const open = new Case({ name: 'open case' });
  const soc = new Case({ name: 'soc case', acs: ['soc'] });

  beforeAll(async () => {
    storage = await freshStorage('pglite');
    await storage.createCase(open);
    await storage.createCase(soc);
    const users = [
      { username: 'ann', digest: await hashPassword('pw'), groups: ['soc'] },
      { username: 'ben', digest: await hashPassword('pw'), groups: ['cert'] },
      { username: 'sus', digest: await hashPassword('pw'), groups: ['soc', 'suspended'] },
    ];
    const config = parseConfig({
      server: { log_level: 'silent', docs: false },
      auth: { backend: { basic: { users } }, clients: [{ name: 'svc', key: 'svc-key-0123456789abcdef' }] },
    });
    auth = new AuditingAuthAPI();
    server = new FusionServer({ config, storage, apis: [auth, new CaseProbeAPI()] });
    baseUrl = await server.listen({ host: '127.0.0.1', port: 0 });
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    await storage?.close();
  });

  const as = async (username: string) => ({ headers: { cookie: `FUSION_SESSION=${(await rawLogin(baseUrl, { username, password: 'pw' })).token}` } });

  it('passes the operation and the route params to the hook', async () => {
    const ann = await as('ann');
    expect((await raw(baseUrl, 'GET', `/api/case/${open.guid}`, ann)).status).toBe(200);
    expect(auth.seen.at(-1)).toEqual({ operation: 'retrieve_case', case_guid: open.guid, is_delete_op: false });
  });

  it('opens a case with empty acs to everyone and a case with acs to its members (and API keys)', async () => {
    const ann = await as('ann');
    const ben = await as('ben');
    expect((await raw(baseUrl, 'GET', `/api/case/${soc.guid}`, ann)).body.data).toMatchObject({ name: 'soc case' });
    expect((await raw(baseUrl, 'GET', `/api/case/${open.guid}`, ben)).status).toBe(200);
    expect((await raw(baseUrl, 'GET', `/api/case/${soc.guid}`, ben)).status).toBe(403);
    const key = { headers: { 'x-fusion-api-token': 'svc-key-0123456789abcdef' } };
    expect((await raw(baseUrl, 'GET', `/api/case/${soc.guid}`, key)).status).toBe(200);
    expect((await raw(baseUrl, 'GET', `/api/case/${randomUUID()}`, ann)).status).toBe(404);
  });

  it('refuses with 403 what the override refuses', async () => {
    const sus = await as('sus');
    const answer = await raw(baseUrl, 'GET', `/api/case/${open.guid}`, sus);
    expect([answer.status, answer.body.code]).toEqual([403, 'FUSION_ERR_FORBIDDEN']);
  });

  it('checks its options and its config', async () => {
    expect(() => new FusionAuthAPI({ authorize: 'yes' as never })).toThrow(TypeError);
    const bare = new FusionServer({ config: parseConfig({ server: { log_level: 'silent' } }) });
    expect(() => new FusionAuthAPI().setup({} as FastifyInstance, bare)).toThrow(/auth: FusionAuthAPI needs an 'auth' section/);
    await bare.close();
    expect(auth.canAccessCase(new Identity({ username: 'x' }), open)).toBe(true);
    expect(auth.canAccessCase(new Identity({ username: 'x', groups: ['soc'] }), soc)).toBe(true);
    expect(auth.canAccessCase(new Identity({ username: 'soc' }), soc)).toBe(true);
    expect(auth.canAccessCase(new Identity({ username: 'svc' }), soc)).toBe(false);
  });
});
