import { afterEach, describe, expect, it } from '@jest/globals';
import { FusionTcpClient } from '../../src/client/tcp-client.js';
import type { TcpFrame } from '../../src/helper/framing.js';
import type { FusionTcpConnection } from '../../src/server/tcp/connection.js';
import { FusionTcpGateway } from '../../src/server/tcp/gateway.js';
import { collectLogs, until } from '../server/tcp/helpers.js';

const framing = { type: 'line' } as const;

/** A gateway on `port` (0: any) that records frames per connection and echoes them. */
async function echoGateway(port = 0): Promise<{ gateway: FusionTcpGateway; port: number; frames: string[]; connections: FusionTcpConnection[] }> {
  const gateway = new FusionTcpGateway({ logger: collectLogs().logger });
  const frames: string[] = [];
  const connections: FusionTcpConnection[] = [];
  gateway.onConnect((c) => {
    connections.push(c);
  });
  gateway.classify((first) => (String(first).startsWith('HELLO') ? 'device' : null));
  gateway.onMessage((frame, c) => {
    frames.push(`${c.clientType}:${String(frame)}`);
    c.send(`echo ${String(frame)}`);
  });
  const listener = await gateway.listen({ port, framing });
  return { gateway, port: listener.port, frames, connections };
}

describe('FusionTcpClient', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it('sends its handshake on connect, runs hooks in order both ways, and handles replies', async () => {
    const g = await echoGateway();
    cleanup.push(() => g.gateway.close());
    const client = new FusionTcpClient({ port: g.port, framing });
    cleanup.push(() => client.close());
    const trace: string[] = [];
    const replies: TcpFrame[] = [];
    client
      .onConnect((c) => {
        trace.push('connect');
        c.send('HELLO 1');
      })
      .beforeSend((frame) => `${String(frame)}*`)
      .beforeSend((frame) => (String(frame).startsWith('drop') ? null : frame))
      .afterReceive((frame) => (String(frame).endsWith('*') ? String(frame).slice(0, -1) : null))
      .afterReceive(async (frame) => String(frame).toUpperCase())
      .onMessage((frame) => {
        trace.push(`message:${String(frame)}`);
        replies.push(frame);
      });
    await client.connect();
    expect(client.send('drop me')).toBe(false);
    expect(client.send('data')).toBe(true);
    await until(() => replies.length === 2, 'two replies');
    expect(g.frames).toEqual(['device:HELLO 1*', 'device:data*']);
    expect(trace).toEqual(['connect', 'message:ECHO HELLO 1', 'message:ECHO DATA']);
  });

  it('reconnects with backoff after the server goes away, sends the handshake again, then the frames queued meanwhile, in order', async () => {
    let g = await echoGateway();
    const port = g.port;
    const client = new FusionTcpClient({ port, framing, reconnect: { initialDelay: 20, maxDelay: 200 } });
    cleanup.push(() => client.close());
    const disconnects: string[] = [];
    client.onConnect((c) => c.send('HELLO again'));
    client.onDisconnect((_c, reason) => disconnects.push(reason));
    await client.connect();
    client.send('before');
    await until(() => g.frames.length === 2, 'two frames on the first server');
    await g.gateway.close();
    await until(() => !client.connected, 'the client to see the close');
    expect(client.send('queued 1')).toBe(true);
    expect(client.send('queued 2')).toBe(true);
    expect(client.queuedFrames).toBe(2);
    g = await echoGateway(port);
    cleanup.push(() => g.gateway.close());
    await until(() => g.frames.length === 3, 'handshake and queued frames on the new server');
    expect(g.frames).toEqual(['device:HELLO again', 'device:queued 1', 'device:queued 2']);
    expect(client.connections).toBe(2);
    expect(client.queuedFrames).toBe(0);
    expect(disconnects).toHaveLength(1);
  });

  it('keeps a bounded queue while disconnected: one frame too many throws FUSION_ERR_TCP_QUEUE_FULL', async () => {
    const probe = await echoGateway();
    const port = probe.port;
    await probe.gateway.close(); // a port nobody listens on now
    const client = new FusionTcpClient({ port, framing, maxQueuedFrames: 3, reconnect: { initialDelay: 10, maxDelay: 50 } });
    cleanup.push(() => client.close());
    const connecting = client.connect();
    for (let i = 0; i < 3; i++) client.send(`frame ${i}`);
    expect(() => client.send('one more')).toThrow(expect.objectContaining({ code: 'FUSION_ERR_TCP_QUEUE_FULL' }));
    const refused = expect(connecting).rejects.toMatchObject({ code: 'FUSION_ERR_TCP_CLOSED' });
    await client.close();
    await refused;
    expect(() => client.send('after close')).toThrow(expect.objectContaining({ code: 'FUSION_ERR_TCP_CLOSED' }));
  });

  it('without reconnection, connect() rejects with FUSION_ERR_CONNECTION when nobody listens', async () => {
    const probe = await echoGateway();
    await probe.gateway.close();
    const client = new FusionTcpClient({ port: probe.port, framing, reconnect: false });
    cleanup.push(() => client.close());
    await expect(client.connect()).rejects.toMatchObject({ code: 'FUSION_ERR_CONNECTION' });
  });

  it('a frame over maxFrameBytes from the server drops the connection, and the client reconnects', async () => {
    const gateway = new FusionTcpGateway({ logger: collectLogs().logger });
    cleanup.push(() => gateway.close());
    gateway.onConnect((c) => {
      c.send('x'.repeat(100));
    });
    const { port } = await gateway.listen({ port: 0, framing });
    const client = new FusionTcpClient({ port, framing, maxFrameBytes: 50, reconnect: { initialDelay: 10, maxDelay: 50 } });
    cleanup.push(() => client.close());
    const reasons: string[] = [];
    client.onDisconnect((_c, reason) => reasons.push(reason));
    await client.connect();
    await until(() => reasons.length >= 1 && client.connections >= 2, 'a drop and a reconnection');
    expect(reasons[0]).toMatch(/over max_frame_bytes \(\d+ > 50 bytes\)/);
  });

  it('checks its options in the constructor', () => {
    expect(() => new FusionTcpClient({ port: 0, framing })).toThrow(/port must be/);
    expect(() => new FusionTcpClient({ port: 1, framing, maxQueuedFrames: 0 })).toThrow(/maxQueuedFrames/);
    expect(() => new FusionTcpClient({ port: 1, framing, reconnect: { factor: 0.5 } })).toThrow(/factor/);
    expect(() => new FusionTcpClient({ port: 1, framing: { type: 'line', delimiter: '' } })).toThrow(/delimiter/);
  });
});
