import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { FusionTcpConnection } from '../../../src/server/tcp/connection.js';
import type { FusionTcpGateway } from '../../../src/server/tcp/gateway.js';
import { RawPeer, newGateway, until } from './helpers.js';
import type { LogCollector } from './helpers.js';

describe('gateway limits', () => {
  let gateway: FusionTcpGateway;
  let logs: LogCollector;
  const reasons: string[] = [];
  const connections: FusionTcpConnection[] = [];

  beforeAll(() => {
    ({ gateway, logs } = newGateway());
    gateway.onConnect((c) => {
      connections.push(c);
    });
    gateway.onDisconnect((_c, reason) => {
      reasons.push(reason);
    });
  });

  afterAll(async () => {
    await gateway?.close();
  });

  it('closes a connection idle for idle_timeout, with the reason', async () => {
    const { port } = await gateway.listen({ name: 'idle', port: 0, framing: { type: 'line' }, idleTimeout: 0.2 });
    const peer = await RawPeer.open(port);
    await peer.closedPromise;
    await until(() => reasons.includes('idle for 0.2 s'), 'onDisconnect with the idle reason');
    expect(logs.lines.some((line) => line.msg === 'tcp connection closed' && line.reason === 'idle for 0.2 s')).toBe(true);
  });

  it('drops connections over max_connections at accept and logs it; the others keep working', async () => {
    const { port } = await gateway.listen({ name: 'limited', port: 0, framing: { type: 'line' }, maxConnections: 2 });
    gateway.onMessage((frame, c) => {
      c.send(`echo ${String(frame)}`);
    });
    const first = await RawPeer.open(port);
    const second = await RawPeer.open(port);
    await until(() => connections.filter((c) => c.listener === 'limited' && !c.closed).length === 2, 'two accepted');
    const third = await RawPeer.open(port);
    try {
      await third.closedPromise;
      await until(() => logs.lines.some((line) => line.msg === 'tcp connection refused: max_connections reached' && line.listener === 'limited'), 'the log line');
      await second.write('still here\n');
      await second.waitForText('echo still here');
    } finally {
      await Promise.all([first.close(), second.close(), third.close()]);
    }
  });

  it('closes a slow reader once max_buffered_bytes are waiting, instead of buffering without bound', async () => {
    const { port } = await gateway.listen({ name: 'slow', port: 0, framing: { type: 'line' }, maxBufferedBytes: 65_536 });
    const peer = await RawPeer.open(port);
    peer.socket.pause(); // never reads
    try {
      await until(() => connections.some((c) => c.listener === 'slow'), 'accepted');
      const connection = connections.find((c) => c.listener === 'slow')!;
      const frame = 'x'.repeat(1023);
      let sent = 0;
      let maxBuffered = 0;
      // the kernel's socket buffers take the first megabytes; then the gateway's own buffer fills
      while (sent < 200_000 && connection.send(frame)) {
        sent++;
        maxBuffered = Math.max(maxBuffered, connection.bufferedBytes);
      }
      expect(connection.closed).toBe(true);
      expect(maxBuffered).toBeLessThanOrEqual(65_536);
      await until(() => reasons.some((reason) => reason.startsWith('slow reader')), 'onDisconnect with the slow-reader reason');
      expect(connection.send('more')).toBe(false);
    } finally {
      await peer.close();
    }
  });
});
