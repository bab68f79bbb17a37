// fusion_tcp_connections: open TCP gateway connections of this instance by listener, scraped at /api/metrics.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { KnexStorage } from '../../../src/server/storage/knex-storage.js';
import { FusionTcpAPI } from '../../../src/server/tcp/impl.js';
import { createTestServer } from '../../../src/testing/index.js';
import type { TestServer } from '../../../src/testing/index.js';
import { freshStorage } from '../../helpers/storage.js';
import { silenceAudit, until } from '../rpc/helpers.js';
import { RawPeer } from '../tcp/helpers.js';
import { sample, scrape } from './scrape.js';

describe('fusion_tcp_connections', () => {
  silenceAudit();
  let storage: KnexStorage;
  let t: TestServer;
  let tcp: FusionTcpAPI;

  beforeAll(async () => {
    storage = await freshStorage('pglite');
    tcp = new FusionTcpAPI();
    t = await createTestServer({
      storage,
      apis: [tcp],
      config: {
        metrics: { enabled: true },
        tcp: { listeners: [{ name: 'panels', port: 0, framing: 'line' }, { name: 'sensors', port: 0, framing: 'line' }] },
      },
    });
  }, 60_000);

  afterAll(async () => {
    await t?.close();
    await storage?.close();
  });

  const connections = async (listener: string): Promise<number | undefined> =>
    sample((await scrape(t.baseUrl, { 'x-fusion-api-token': t.apiKey })).text, 'fusion_tcp_connections', { listener });
  const counts = async (): Promise<string> => `${await connections('panels')}/${await connections('sensors')}`;
  const port = (name: string): number => tcp.listeners.find((listener) => listener.options.name === name)!.port;

  it('counts the open connections of each listener, down again as they close', async () => {
    expect(await counts()).toBe('0/0');
    const peers = [await RawPeer.open(port('panels')), await RawPeer.open(port('panels')), await RawPeer.open(port('sensors'))];
    try {
      await until(async () => (await counts()) === '2/1', 'two panels and one sensor counted');
      await peers[0]!.close();
      await until(async () => (await counts()) === '1/1', 'the closed panel uncounted');
      await peers[2]!.close();
      await until(async () => (await counts()) === '1/0', 'the closed sensor uncounted');
    } finally {
      for (const peer of peers) await peer.close();
    }
    await until(async () => (await counts()) === '0/0', 'every connection uncounted');
  });
});
