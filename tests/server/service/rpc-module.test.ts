/** RPC methods a service module adds in its setup: served by `createServiceServer`, called through FusionRpcClient. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FusionRpcClient } from '../../../src/client/api/rpc.js';
import { loadServiceConfig } from '../../../src/server/service-module.js';
import { createServiceServer } from '../../../src/server/service-server.js';
import type { FusionServer } from '../../../src/server/server.js';
import type { TicketRpc } from '../../fixtures/service/rpc-module.js';
import { silenceAudit } from '../event/helpers.js';

const MODULE = fileURLToPath(new URL('../../fixtures/service/rpc-module.ts', import.meta.url));
const KEY = 'rpc-module-test-key-0123456789abcdef';

describe('RPC methods of a service module', () => {
  silenceAudit();
  let dir: string;
  let server: FusionServer;
  let base: string;
  let client: FusionRpcClient<TicketRpc>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fusion-rpc-module-'));
    const path = join(dir, 'config.yaml');
    await writeFile(
      path,
      [
        'server: { log_level: silent }',
        'storage: { url: "memory://" }',
        `service: { module: ${JSON.stringify(MODULE)} }`,
        `auth: { clients: [{ name: ticketing, key: ${KEY} }] }`,
        'rpc: {}',
        '',
      ].join('\n'),
    );
    server = await createServiceServer(await loadServiceConfig(path, { env: {} }));
    base = await server.listen({ host: '127.0.0.1', port: 0 });
    client = await FusionRpcClient.connect<TicketRpc>({ url: base, apiKey: KEY });
  }, 60_000);

  afterAll(async () => {
    await client?.close();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a method of the module table answers through the real client, with the caller identity', async () => {
    expect(await client.call('ticket.open', { title: 'printer on fire' })).toEqual({ title: 'printer on fire', by: 'ticketing' });
  });

  it('its input schema refuses bad params with -32602 naming the field; a thrown FusionError keeps its code', async () => {
    await expect(client.call('ticket.open', { title: '' })).rejects.toMatchObject({ rpcCode: -32602, code: 'FUSION_ERR_VALIDATION', message: expect.stringContaining('title') });
    await expect(client.call('ticket.find', { id: 7 })).rejects.toMatchObject({ rpcCode: -32004, code: 'FUSION_ERR_NOT_FOUND', message: expect.stringContaining('no ticket 7') });
  });

  it('a method added on its own with rpc.method answers too; an unknown one is refused', async () => {
    const untyped = client as unknown as FusionRpcClient;
    expect(await untyped.call('ticket.count')).toBe(3);
    await expect(untyped.call('ticket.close', {})).rejects.toMatchObject({ rpcCode: -32601 });
  });
});
