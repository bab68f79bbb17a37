import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FusionConstantAPIClient } from '../../../src/client/api/constant.js';
import { FusionClient } from '../../../src/client/client.js';
import { Constant } from '../../../src/concept/index.js';
import { edfFixture, fixtureServer } from './fixture-server.js';

let server: Awaited<ReturnType<typeof fixtureServer>>;
let client: FusionClient;
let fixture: unknown;

beforeAll(async () => {
  fixture = await edfFixture('constant');
  server = await fixtureServer({ '/api/constant': fixture });
  client = new FusionClient({ baseUrl: server.url });
});
afterAll(async () => {
  await client?.close();
  await server?.close();
});

describe('FusionConstantAPIClient', () => {
  it("decodes edf_fusion's Constant", async () => {
    const constant = await new FusionConstantAPIClient({ client }).constant();
    expect(constant).toBeInstanceOf(Constant);
    expect(constant.toJSON()).toEqual(fixture);
  });

  it('throws FusionClientError when the server has no constant route', async () => {
    const other = new FusionClient({ baseUrl: `${server.url}/elsewhere` });
    try {
      await expect(new FusionConstantAPIClient({ client: other }).constant()).rejects.toMatchObject({ status: 404, code: 'FUSION_ERR_NOT_FOUND' });
    } finally {
      await other.close();
    }
  });

  it('needs a client', () => {
    expect(() => new FusionConstantAPIClient({} as { client: FusionClient })).toThrow(/client is required/);
  });
});
