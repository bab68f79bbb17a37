// fusion_rpc_connections: open JSON-RPC WebSocket connections of this instance, scraped at /api/metrics.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { KnexStorage } from '../../../src/server/storage/knex-storage.js';
import { freshStorage } from '../../helpers/storage.js';
import { serviceClient, silenceAudit, startRpcServer, until, userClient } from '../rpc/helpers.js';
import type { RpcServer } from '../rpc/helpers.js';
import { sample, scrape } from './scrape.js';

describe('fusion_rpc_connections', () => {
  silenceAudit();
  let storage: KnexStorage;
  let t: RpcServer;

  beforeAll(async () => {
    storage = await freshStorage('pglite');
    t = await startRpcServer(storage, { config: { metrics: { enabled: true } } });
  }, 60_000);

  afterAll(async () => {
    await t?.close();
    await storage?.close();
  });

  const connections = async (): Promise<number | undefined> => sample((await scrape(t.baseUrl, { 'x-fusion-api-token': t.apiKey })).text, 'fusion_rpc_connections');

  it('counts the open RPC connections, down again as they close', async () => {
    expect(await connections()).toBe(0);
    const service = await serviceClient(t);
    const alice = await userClient(t, 'alice');
    try {
      await until(async () => (await connections()) === 2, 'two connections counted');
      await alice.close();
      await until(async () => (await connections()) === 1, 'the closed connection uncounted');
    } finally {
      await alice.close();
      await service.close();
    }
    await until(async () => (await connections()) === 0, 'every connection uncounted');
  });
});
