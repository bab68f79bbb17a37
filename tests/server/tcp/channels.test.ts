import { afterAll, afterEach, beforeAll, expect, it } from '@jest/globals';
import type { FusionRpcClient } from '../../../src/client/api/rpc.js';
import type { FusionTcpClient } from '../../../src/client/tcp-client.js';
import type { TcpFrame } from '../../../src/helper/framing.js';
import type { FusionHost } from '../../../src/server/host.js';
import type { KnexStorage } from '../../../src/server/storage/knex-storage.js';
import { openStorage } from '../../../src/server/storage/open-storage.js';
import type { FusionTcpConnection } from '../../../src/server/tcp/connection.js';
import { FusionTcpAPI } from '../../../src/server/tcp/impl.js';
import { TEST_PG_URL, describeStorage } from '../../helpers/storage.js';
import { expectDocShowsExampleFile } from '../../helpers/doc-example-file.js';
import { silenceAudit, startRpcServer, userClient } from '../rpc/helpers.js';
import type { RpcServer } from '../rpc/helpers.js';
import { eventually, newGateway, openDevice, until } from './helpers.js';
import { armSite, installSiteChannels } from './site-channel.example.js';

/** Instance B: the same handshake, the default encoder (one JSON object per line) and a before-send trailer `#`. */
function installPlainPanels(host: FusionHost): void {
  const gateway = host.findApi(FusionTcpAPI)!.gateway;
  gateway.classify((first, connection) => {
    const hello = /^HELLO (\S+) (\S+)$/.exec(String(first));
    if (hello === null) return null;
    connection.identify(hello[1]!);
    return 'panel';
  });
  gateway.onMessage('panel', async (frame, connection) => {
    if (!connection.isFirstMessage) return;
    await gateway.join(connection, `site/${String(frame).split(' ')[2]!}`);
    connection.send('OK');
  });
  gateway.beforeSend((frame) => `${String(frame)}#`);
}

const tcpConfig = { event: {}, tcp: { listeners: [{ name: 'panels', port: 0, framing: 'line' }] } };

describeStorage('TCP connections in RPC channels', (getStorage, kind) => {
  silenceAudit();
  let a: RpcServer;
  let b: RpcServer;
  let storageB: KnexStorage;
  const devices: FusionTcpClient[] = [];
  const rpcClients: FusionRpcClient[] = [];
  let sites = 0;

  beforeAll(async () => {
    // Two instances on one database: a second pool on the same schema (PostgreSQL), or the same embedded database (PGlite).
    storageB = kind === 'postgres' ? await openStorage(TEST_PG_URL, { schema: getStorage().schema! }) : getStorage();
    a = await startRpcServer(getStorage(), { config: tcpConfig });
    b = await startRpcServer(storageB, { config: tcpConfig, declare: (rpc) => rpc.channel('site/*') });
    installSiteChannels(a.server);
    installPlainPanels(b.server);
  }, 120_000);

  afterEach(async () => {
    await Promise.all([...devices.splice(0), ...rpcClients.splice(0)].map((client) => client.close()));
    await until(() => gateway(a).connections.size + gateway(b).connections.size === 0, 'every device gone');
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    if (storageB !== getStorage()) await storageB?.close();
  }, 60_000);

  const gateway = (server: RpcServer): FusionTcpAPI['gateway'] => server.server.findApi(FusionTcpAPI)!.gateway;
  const newSite = (): string => `s${Date.now().toString(36)}${sites++}`;
  const port = (server: RpcServer): number => server.server.findApi(FusionTcpAPI)!.listeners[0]!.port;

  async function panel(server: RpcServer, name: string, site: string): Promise<{ client: FusionTcpClient; received: TcpFrame[] }> {
    const device = await openDevice(port(server), `HELLO ${name} ${site}`);
    devices.push(device.client);
    await until(() => device.received.length > 0, `${name} joined`);
    return device;
  }

  function connectionOf(server: RpcServer, name: string): FusionTcpConnection {
    return [...gateway(server).connections.values()].find((connection) => connection.identity === name)!;
  }

  it('docs/tcp.md shows the example it runs', async () => {
    await expectDocShowsExampleFile('docs/tcp.md', 'tests/server/tcp/site-channel.example.ts');
  });

  it('one instance: panels join their site by handshake; a broadcast reaches them (custom encoder) and RPC members, not other sites', async () => {
    const site = newSite();
    const p1 = await panel(a, 'p1', site);
    const other = await panel(a, 'p2', `${site}-other`);
    expect(p1.received).toEqual(['OK']);
    const alice = await userClient(a, 'alice');
    rpcClients.push(alice);
    const seen: [number, unknown][] = [];
    const joined = await alice.join(`site/${site}`, (data, id) => seen.push([id, data]));
    expect(joined.members).toEqual(['alice', 'p1']);
    expect(gateway(a).channelsOf(connectionOf(a, 'p1'))).toEqual([`site/${site}`]);

    const id = await armSite(a.server, site);
    await until(() => p1.received.length === 2 && seen.length === 1, 'the broadcast on the panel and the RPC member');
    expect(p1.received[1]).toBe(`site/${site} ${id} {"command":"ARM"}`);
    expect(seen).toEqual([[id, { command: 'ARM' }]]);
    expect(other.received).toEqual(['OK']);
  });

  it('two instances: a broadcast from A reaches panels on A and B (default JSON line through B before-send hook) once, with one id', async () => {
    const site = newSite();
    const onA = await panel(a, 'pa', site);
    const onB = await panel(b, 'pb', site);
    expect(onB.received).toEqual(['OK#']);
    const bob = await userClient(b, 'bob');
    rpcClients.push(bob);
    const seen: [number, unknown][] = [];
    await bob.join(`site/${site}`, (data, id) => seen.push([id, data]));
    expect(await a.rpc.presence(`site/${site}`)).toEqual(['bob', 'pa', 'pb']);

    const first = await a.rpc.broadcast(`site/${site}`, { n: 1, text: 'line\nbreak' });
    const second = await b.rpc.broadcast(`site/${site}`, { n: 2 });
    await until(() => onA.received.length === 3 && onB.received.length === 3 && seen.length === 2, 'two messages everywhere');
    expect(onB.received.slice(1)).toEqual([
      `${JSON.stringify({ channel: `site/${site}`, id: first, data: { n: 1, text: 'line\nbreak' } })}#`,
      `${JSON.stringify({ channel: `site/${site}`, id: second, data: { n: 2 } })}#`,
    ]);
    expect(onA.received.slice(1)).toEqual([`site/${site} ${first} {"n":1,"text":"line\\nbreak"}`, `site/${site} ${second} {"n":2}`]);
    expect(seen.map(([id]) => id)).toEqual([first, second]);
  });

  it('membership ends when the connection closes: presence on every instance drops it, and later broadcasts skip it', async () => {
    const site = newSite();
    const stays = await panel(a, 'stays', site);
    const goes = await panel(b, 'goes', site);
    expect(await a.rpc.presence(`site/${site}`)).toEqual(['goes', 'stays']);
    await goes.client.close();
    await eventually(() => a.rpc.presence(`site/${site}`), (members) => members.length === 1, 'the closed panel out of presence');
    expect(await b.rpc.presence(`site/${site}`)).toEqual(['stays']);
    await until(() => b.rpc.roomCount === 0, 'the room on B closed with its last member');
    const id = await a.rpc.broadcast(`site/${site}`, 'after');
    await until(() => stays.received.length === 2, 'the broadcast on the remaining panel');
    expect(stays.received[1]).toBe(`site/${site} ${id} "after"`);
    expect(goes.received).toEqual(['OK#']);
  });

  it('leave takes a connection out of a channel at once; leaving twice says false', async () => {
    const site = newSite();
    const device = await panel(b, 'leaver', site);
    const connection = connectionOf(b, 'leaver');
    const witness = await userClient(b, 'bob');
    rpcClients.push(witness);
    const seen: unknown[] = [];
    await witness.join(`site/${site}`, (data) => seen.push(data));
    expect(await gateway(b).leave(connection, `site/${site}`)).toBe(true);
    expect(await gateway(b).leave(connection, `site/${site}`)).toBe(false);
    expect(gateway(b).channelsOf(connection)).toEqual([]);
    expect(await a.rpc.presence(`site/${site}`)).toEqual(['bob']);
    await a.rpc.broadcast(`site/${site}`, 'not for the panel');
    await until(() => seen.length === 1, 'the broadcast on the RPC member of B');
    // Had the panel still been in the room, the broadcast would have been written to it before this frame.
    await gateway(a).deliver({ username: 'leaver' }, 'direct');
    await until(() => device.received.length === 2, 'the direct frame');
    expect(device.received).toEqual(['OK#', 'direct#']);
  });

  it('a message the framing cannot carry (over max_frame_bytes) skips that device, which keeps its connection and the next message', async () => {
    const site = newSite();
    const device = await panel(a, 'small', site);
    await a.rpc.broadcast(`site/${site}`, 'x'.repeat(70_000));
    const id = await a.rpc.broadcast(`site/${site}`, 'small');
    await until(() => device.received.length === 2, 'the second message');
    expect(device.received[1]).toBe(`site/${site} ${id} "small"`);
    expect(connectionOf(a, 'small').closed).toBe(false);
  });

  it('refuses case channels (they carry case events to RPC connections), and joins without the RPC API', async () => {
    await panel(a, 'refused', newSite());
    const connection = connectionOf(a, 'refused');
    await expect(gateway(a).join(connection, 'case/0b5f6a04-7a8e-4d0c-9f53-2f3b0c1d2e3f')).rejects.toThrow(/case channels/);
    await expect(gateway(a).join(connection, '')).rejects.toThrow(/channel name/);
    const { gateway: alone } = newGateway();
    try {
      const listener = await alone.listen({ port: 0, framing: { type: 'line' } });
      let error: unknown;
      alone.onMessage((_frame, c) => alone.join(c, 'site/x').catch((caught: unknown) => void (error = caught)));
      const device = await openDevice(listener.port, 'HELLO');
      devices.push(device.client);
      await until(() => error !== undefined, 'the join to fail');
      expect((error as { code?: string }).code).toBe('FUSION_ERR_UNAVAILABLE');
      expect(String((error as Error).message)).toMatch(/rpc API/);
    } finally {
      await Promise.all(devices.splice(0).map((client) => client.close()));
      await alone.close();
    }
  });
});
