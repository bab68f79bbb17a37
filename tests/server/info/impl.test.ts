import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FusionInfoAPIClient } from '../../../src/client/api/info.js';
import { Info } from '../../../src/concept/index.js';
import { FusionInfoAPI } from '../../../src/server/info/impl.js';
import type { KnexStorage } from '../../../src/server/storage/knex-storage.js';
import { freshStorage } from '../../helpers/storage.js';
import { startServer } from '../harness.js';
import type { Harness } from '../harness.js';

let storage: KnexStorage;
let open: Harness;
let guarded: Harness;

beforeAll(async () => {
  storage = await freshStorage('pglite');
  open = await startServer({ storage, apis: [new FusionInfoAPI(new Info({ api: 'demo', version: '0.1.0' }))] });
  guarded = await startServer({ storage, apis: [new FusionInfoAPI(new Info({ api: 'demo', version: '0.1.0' }))], config: { info: { auth_required: true } } });
}, 120_000);

afterAll(async () => {
  await open?.close();
  await guarded?.close();
  await storage?.close();
});

describe('FusionInfoAPI', () => {
  it('answers GET /api/info with the envelope, as edf_fusion', async () => {
    const res = await fetch(`${open.url}/api/info`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 200, data: { api: 'demo', version: '0.1.0' }, count: 2 });
  });

  it('is read by FusionInfoAPIClient as an Info', async () => {
    const info = await new FusionInfoAPIClient({ client: open.client }).info();
    expect(info).toBeInstanceOf(Info);
    expect(info.toJSON()).toEqual({ api: 'demo', version: '0.1.0' });
  });

  it('serves a replaced Info', async () => {
    const api = open.server.apis[0] as FusionInfoAPI;
    api.info = new Info({ api: 'demo', version: '0.2.0' });
    try {
      expect(await open.client.get('/api/info')).toEqual({ api: 'demo', version: '0.2.0' });
    } finally {
      api.info = new Info({ api: 'demo', version: '0.1.0' });
    }
  });

  it('asks for authorization with info.auth_required (401 without an auth API)', async () => {
    await expect(new FusionInfoAPIClient({ client: guarded.client }).info()).rejects.toMatchObject({
      status: 401,
      code: 'FUSION_ERR_UNAUTHORIZED',
      message: expect.stringContaining("operation 'retrieve_info'"),
    });
  });

  it('checks its arguments', () => {
    expect(() => new FusionInfoAPI({} as Info)).toThrow(/Info concept/);
    expect(() => new FusionInfoAPI(new Info({ api: 'a', version: '1' }), { authRequired: 'yes' as unknown as boolean })).toThrow(/authRequired/);
  });
});
