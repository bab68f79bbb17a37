import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { FusionTcpClient } from '../../../src/client/tcp-client.js';
import { acquireConnectionRegistry, releaseConnectionRegistry } from '../../../src/server/connection/shared.js';
import type { ConnectionRecord } from '../../../src/server/connection/registry.js';
import type { KnexStorage } from '../../../src/server/storage/knex-storage.js';
import { openStorage } from '../../../src/server/storage/open-storage.js';
import { FusionTcpAPI } from '../../../src/server/tcp/impl.js';
import { createTestServer } from '../../../src/testing/create-test-server.js';
import type { TestServer } from '../../../src/testing/create-test-server.js';
import { TEST_PG_URL, freshStorage, isCi, pgUnavailableReason } from '../../helpers/storage.js';
import type { TestStorageKind } from '../../helpers/storage.js';
import { eventually, openDevice, until } from './helpers.js';

const reason = pgUnavailableReason();
if (reason !== null && !isCi()) console.warn(`tcp multi-instance tests on postgres skipped: ${reason}`);
const kinds: TestStorageKind[] = reason === null || isCi() ? ['postgres', 'pglite'] : ['pglite'];
/** Each storage alone, and the first one with the RPC API mounted too (both must then share one registry per instance). */
const variants: [TestStorageKind, string][] = [...kinds.map((kind): [TestStorageKind, string] => [kind, 'tcp']), [kinds[0]!, 'tcp + rpc']];

/** A service API that classifies `HELLO <type> <name>` handshakes and takes <name> as the identity. */
function panelsApi(): FusionTcpAPI {
  const api = new FusionTcpAPI();
  api.gateway.classify((first, connection) => {
    const [word, type, name] = String(first).split(' ');
    if (word !== 'HELLO' || !type) return null;
    if (name) connection.identify(name);
    return type;
  });
  return api;
}

describe.each(variants)('TCP connections in the connection registry, two instances on one %s schema (%s)', (kind, sections) => {
  let storageA: KnexStorage;
  let storageB: KnexStorage;
  let a: TestServer;
  let b: TestServer;
  const clients: FusionTcpClient[] = [];
  const config = { tcp: { listeners: [{ port: 0, framing: 'line' }] }, ...(sections === 'tcp + rpc' ? { rpc: {} } : {}) };

  beforeAll(async () => {
    storageA = await freshStorage(kind);
    storageB = kind === 'postgres' ? await openStorage(TEST_PG_URL, { schema: storageA.schema! }) : storageA;
    a = await createTestServer({ storage: storageA, config, apis: [panelsApi()] });
    b = await createTestServer({ storage: storageB, config, apis: [panelsApi()] });
  }, 120_000);

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await a?.close();
    await b?.close();
    if (storageB !== storageA) await storageB?.close();
    await storageA?.close();
  }, 60_000);

  const tcp = (server: TestServer): FusionTcpAPI => server.server.findApi(FusionTcpAPI)!;

  async function listed(server: TestServer): Promise<ConnectionRecord[]> {
    const registry = await acquireConnectionRegistry(server.server);
    try {
      return await registry.list({ kind: 'tcp' });
    } finally {
      await releaseConnectionRegistry(server.server);
    }
  }

  it('lists a device of B with its type, identity and address; a send from A reaches it by id, type and identity', async () => {
    const onB = await openDevice(tcp(b).listeners[0]!.port, 'HELLO sensor dev-1');
    clients.push(onB.client);
    await until(() => tcp(b).gateway.connections.size === 1 && [...tcp(b).gateway.connections.values()][0]!.clientType === 'sensor', 'classified on B');
    const id = [...tcp(b).gateway.connections.keys()][0]!;
    const records = await eventually(() => listed(a), (list) => list.some((r) => r.id === id && r.clientType === 'sensor' && r.username === 'dev-1'), 'the registry row seen from A');
    const record = records.find((r) => r.id === id)!;
    expect(record).toMatchObject({ kind: 'tcp', instanceId: b.server.instanceId, remoteAddress: '127.0.0.1' });

    expect(await tcp(a).gateway.deliver({ connectionId: id }, 'by id')).toEqual([id]);
    expect(await tcp(a).gateway.deliver({ clientType: 'sensor' }, 'by type')).toEqual([id]);
    expect(await tcp(a).gateway.deliver({ username: 'dev-1' }, 'by identity')).toEqual([id]);
    await until(() => onB.received.length === 3, 'three frames on the device');
    expect(onB.received).toEqual(['by id', 'by type', 'by identity']);
  });

  it('a send to a client type reaches its devices on both instances, once each, and no other type', async () => {
    const onA = await openDevice(tcp(a).listeners[0]!.port, 'HELLO alarm');
    const onB = await openDevice(tcp(b).listeners[0]!.port, 'HELLO alarm');
    const other = await openDevice(tcp(b).listeners[0]!.port, 'HELLO camera');
    clients.push(onA.client, onB.client, other.client);
    await eventually(() => listed(b), (list) => list.filter((r) => r.clientType === 'alarm').length === 2 && list.some((r) => r.clientType === 'camera'), 'two alarms and a camera listed');
    const ids = await tcp(b).gateway.deliver({ clientType: 'alarm' }, 'arm');
    expect(ids).toHaveLength(2);
    await until(() => onA.received.length === 1 && onB.received.length === 1, 'both alarms');
    expect([onA.received, onB.received]).toEqual([['arm'], ['arm']]);
    expect(other.received).toEqual([]);
  });

  it('removes a closed connection from the registry: a send to it then reaches nobody', async () => {
    const gone = await openDevice(tcp(b).listeners[0]!.port, 'HELLO sensor dev-gone');
    await until(() => [...tcp(b).gateway.connections.values()].some((c) => c.identity === 'dev-gone'), 'dev-gone on B');
    const id = [...tcp(b).gateway.connections.values()].find((c) => c.identity === 'dev-gone')!.id;
    await eventually(() => listed(a), (list) => list.some((r) => r.id === id && r.username === 'dev-gone'), 'dev-gone listed');
    await gone.client.close();
    await eventually(() => listed(a), (list) => !list.some((r) => r.id === id), 'dev-gone unlisted');
    expect(await tcp(a).gateway.deliver({ connectionId: id }, 'anyone?')).toEqual([]);
  });
});
