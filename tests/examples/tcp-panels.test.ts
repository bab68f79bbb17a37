/** examples/tcp-panels: two kinds of panels over TCP; their messages reach an SSE follower of the case as events. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { FusionEventAPIClient } from '../../src/client/api/event.js';
import type { FusionTcpClient } from '../../src/client/tcp-client.js';
import type { Event } from '../../src/concept/index.js';
import { FusionTcpAPI } from '../../src/server/tcp/impl.js';
import { createTestServer } from '../../src/testing/create-test-server.js';
import type { TestServer } from '../../src/testing/create-test-server.js';
import { installPanels } from '../../examples/tcp-panels/panels.js';
import { expectDocShowsExampleFile } from '../helpers/doc-example-file.js';
import { openDevice, until } from '../server/tcp/helpers.js';

const framing = { type: 'line', delimiter: '\r\n' } as const;

describe('examples/tcp-panels', () => {
  let t: TestServer;
  let port: number;
  const clients: FusionTcpClient[] = [];

  beforeAll(async () => {
    t = await createTestServer({
      config: { event: {}, tcp: { listeners: [{ name: 'panels', port: 0, framing: 'line', delimiter: '\r\n', max_frame_bytes: 4096 }] } },
    });
    installPanels(t.server);
    port = t.server.findApi(FusionTcpAPI)!.listeners[0]!.port;
  }, 60_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await t?.close();
  });

  it('docs/tcp.md shows the example file, and its config has the tcp listener', async () => {
    await expectDocShowsExampleFile('docs/tcp.md', 'examples/tcp-panels/panels.ts');
    expect(await readFile('examples/tcp-panels/config.yaml', 'utf8')).toMatch(/module: \.\/panels\.ts[\s\S]*tcp:\n {2}listeners:/);
  });

  it('classifies panels of kind A (text) and B (JSON) by their handshake; their reports arrive over SSE as case events', async () => {
    const c = await t.clients.service.case.createCase({ name: 'site 12 intrusion' });
    const controller = new AbortController();
    const events = new FusionEventAPIClient({ client: t.clients.service.client });
    const seen: Event[] = [];
    const following = (async () => {
      for await (const event of events.subscribe(c.guid, { signal: controller.signal })) seen.push(event);
    })();
    try {
      await until(() => seen.some((e) => e.category === 'subscribers'), 'the SSE stream to open');
      const a = await openDevice(port, `A-HELLO panel-a-1 ${c.guid}`, framing);
      const b = await openDevice(port, JSON.stringify({ model: 'B', serial: 'B-778', case: c.guid }), framing);
      clients.push(a.client, b.client);
      await until(() => a.received.length === 1 && b.received.length === 1, 'both handshakes answered');
      expect(a.received).toEqual(['A-OK']);
      expect(b.received).toEqual(['{"ok":true}']);
      a.client.send('ZONE 3 ALARM');
      b.client.send(JSON.stringify({ event: 'door_open', zone: 2 }));
      a.client.send('SELF-DESTRUCT');
      await until(() => seen.filter((e) => e.category === 'panel_message').length === 2, 'two panel events over SSE');
      const messages = seen.filter((e) => e.category === 'panel_message').map((e) => e.ext);
      expect(messages).toEqual(
        expect.arrayContaining([
          { panel: 'panel-a-1', kind: 'panel-a', zone: 3, state: 'ALARM' },
          { panel: 'B-778', kind: 'panel-b', zone: 2, state: 'door_open' },
        ]),
      );
      await until(() => a.received.length === 3 && b.received.length === 2, 'the acks');
      expect(a.received.slice(1)).toEqual(['A-ACK', 'A-ERR unknown message']);
      expect(b.received[1]).toBe('{"ok":true}');
    } finally {
      controller.abort();
      await following.catch(() => undefined);
    }
  });

  it('closes a connection whose handshake names no known panel kind', async () => {
    const stranger = await openDevice(port, 'GET / HTTP/1.0', framing);
    clients.push(stranger.client);
    const reasons: string[] = [];
    stranger.client.onDisconnect((_c, reason) => reasons.push(reason));
    await until(() => reasons.length === 1, 'the close');
    expect(stranger.received).toEqual([]);
  });
});
