import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { FusionTcpGateway } from '../../../src/server/tcp/gateway.js';
import { RawPeer, newGateway, until } from './helpers.js';

const COUNT = 1000;

describe('1,000 concurrent connections', () => {
  let gateway: FusionTcpGateway;
  let port: number;
  const peers: RawPeer[] = [];

  beforeAll(async () => {
    ({ gateway } = newGateway());
    gateway.classify((first) => String(first).split(' ')[0]);
    gateway.onMessage((frame, c) => {
      c.send(`${c.clientType}:${String(frame)}`);
    });
    ({ port } = await gateway.listen({ port: 0, framing: { type: 'line' }, maxConnections: COUNT + 10 }));
  });

  afterAll(async () => {
    await Promise.all(peers.map((peer) => peer.close()));
    await gateway?.close();
  }, 60_000);

  it('accepts, classifies and answers each of them, and reaches one type with one send', async () => {
    for (let i = 0; i < COUNT; i += 100) {
      const batch = await Promise.all(Array.from({ length: 100 }, () => RawPeer.open(port)));
      peers.push(...batch);
    }
    await Promise.all(peers.map((peer, i) => peer.write(`${i % 2 === 0 ? 'even' : 'odd'} ${i}\n`)));
    await until(() => peers.every((peer, i) => peer.text.endsWith(`${i % 2 === 0 ? 'even' : 'odd'} ${i}\n`)), 'every answer', 45_000);
    expect(gateway.connections.size).toBe(COUNT);
    expect(peers.every((peer, i) => peer.text === `${i % 2 === 0 ? 'even' : 'odd'}:${i % 2 === 0 ? 'even' : 'odd'} ${i}\n`)).toBe(true);
    expect(gateway.send({ clientType: 'odd' }, 'to the odd ones')).toBe(COUNT / 2);
    await until(() => peers.filter((peer) => peer.text.endsWith('to the odd ones\n')).length === COUNT / 2, 'the broadcast', 45_000);
    expect(peers.filter((peer, i) => i % 2 === 0 && peer.text.includes('to the odd ones'))).toHaveLength(0);
  }, 60_000);
});
