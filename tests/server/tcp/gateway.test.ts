import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { TcpFrame } from '../../../src/helper/framing.js';
import type { FusionTcpConnection } from '../../../src/server/tcp/connection.js';
import type { FusionTcpGateway } from '../../../src/server/tcp/gateway.js';
import { RawPeer, newGateway, until } from './helpers.js';
import type { LogCollector } from './helpers.js';

describe('FusionTcpGateway: classification, routing, hooks', () => {
  let gateway: FusionTcpGateway;
  let logs: LogCollector;
  let port: number;
  const trace: string[] = [];
  const peers: RawPeer[] = [];
  const closedReasons = new Map<string, string>();

  const open = async (): Promise<RawPeer> => {
    const peer = await RawPeer.open(port);
    peers.push(peer);
    return peer;
  };

  beforeAll(async () => {
    ({ gateway, logs } = newGateway());
    gateway
      .onConnect((c) => {
        trace.push(`connect`);
        c.send('WELCOME');
      })
      .afterReceive((frame) => {
        trace.push(`after1:${String(frame)}`);
        // strip a STX (0x02) start byte and refuse frames that do not carry it
        const text = String(frame);
        return text.startsWith('\u0002') ? text.slice(1) : null;
      })
      .afterReceive(async (frame) => {
        trace.push(`after2:${String(frame)}`);
        await new Promise((resolve) => setImmediate(resolve));
        return String(frame).toUpperCase();
      })
      .classify((first, c) => {
        trace.push(`classify:${String(first)}:${c.isFirstMessage}`);
        const text = String(first);
        if (text.startsWith('HELLO A')) return 'panel-A';
        if (text.startsWith('HELLO B')) return 'panel-B';
        return null;
      })
      .onMessage('panel-A', (frame, c) => {
        trace.push(`A:${String(frame)}:${c.isFirstMessage}`);
        c.send(`A got ${String(frame)}`);
      })
      .onMessage('panel-B', async (frame, c) => {
        trace.push(`B:${String(frame)}:${c.isFirstMessage}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
        c.send(`B got ${String(frame)}`);
      })
      .onMessage((frame, c) => {
        trace.push(`default:${String(frame)}:${c.clientType}`);
        if (String(frame) === 'BYE') c.close('client said bye');
        else c.send(`default got ${String(frame)}`);
      })
      .beforeSend((frame) => `${String(frame)}|sum=${String(frame).length}`)
      .beforeSend((frame) => (String(frame).includes('SECRET') ? null : frame))
      .onDisconnect((c, reason) => {
        trace.push(`disconnect:${reason}`);
        closedReasons.set(c.id, reason);
      });
    ({ port } = await gateway.listen({ port: 0, framing: { type: 'line' } }));
  });

  afterEach(async () => {
    await Promise.all(peers.splice(0).map((peer) => peer.close()));
    await until(() => gateway.connections.size === 0, 'connections to close');
    trace.length = 0;
  });

  afterAll(async () => {
    await gateway?.close();
  });

  it('runs onConnect, after-receive hooks in order, classify on the first frame only, then the handler of the type', async () => {
    const peer = await open();
    await peer.write('\u0002hello a 1\n\u0002zone 3\n');
    await peer.waitForText('A got ZONE 3');
    expect(trace).toEqual([
      'connect',
      'after1:\u0002hello a 1',
      'after2:hello a 1',
      'classify:HELLO A 1:true',
      'A:HELLO A 1:true',
      'after1:\u0002zone 3',
      'after2:zone 3',
      'A:ZONE 3:false',
    ]);
    expect(peer.text).toBe('WELCOME|sum=7\nA got HELLO A 1|sum=15\nA got ZONE 3|sum=12\n');
    const [connection] = [...gateway.connections.values()];
    expect(connection!.clientType).toBe('panel-A');
    expect(connection!.messagesReceived).toBe(2);
  });

  it('routes each connection to the handler of its own type (async handlers keep frame order)', async () => {
    const a = await open();
    const b = await open();
    await b.write('\u0002hello b\n\u0002one\n\u0002two\n\u0002three\n');
    await a.write('\u0002hello a\n\u0002x\n');
    await b.waitForText('B got THREE');
    await a.waitForText('A got X');
    expect(b.text.split('\n').filter(Boolean)).toEqual(['WELCOME|sum=7', 'B got HELLO B|sum=13', 'B got ONE|sum=9', 'B got TWO|sum=9', 'B got THREE|sum=11']);
    expect(a.text).not.toContain('B got');
    const types = [...gateway.connections.values()].map((c) => c.clientType).sort();
    expect(types).toEqual(['panel-A', 'panel-B']);
    expect(gateway.send({ clientType: 'panel-B' }, 'to all B')).toBe(1);
    await b.waitForText('to all B|sum=8');
    expect(a.text).not.toContain('to all B');
  });

  it('sends an unclassified connection to the default handler; a refused frame is not the first message', async () => {
    const peer = await open();
    await peer.write('no start byte\n\u0002something else\n');
    await peer.waitForText('default got SOMETHING ELSE');
    expect(trace).toContain('classify:SOMETHING ELSE:true');
    expect(trace).toContain('default:SOMETHING ELSE:null');
    expect(trace.some((line) => line.startsWith('after2:no start'))).toBe(false);
  });

  it('before-send hooks may refuse a frame: send returns false and nothing is written', async () => {
    const peer = await open();
    await peer.write('\u0002hello a\n');
    await peer.waitForText('A got HELLO A');
    const [connection] = [...gateway.connections.values()] as FusionTcpConnection[];
    expect(connection!.send('a SECRET')).toBe(false);
    expect(gateway.send({ connectionId: connection!.id }, 'fine')).toBe(1);
    await peer.waitForText('fine|sum=4');
    expect(peer.text).not.toContain('SECRET');
    expect(gateway.send({ connectionId: 'no-such-id' }, 'x')).toBe(0);
  });

  it('close(reason) ends the connection; onDisconnect gets the reason and the log says it', async () => {
    const peer = await open();
    await peer.write('\u0002bye\n');
    await peer.closedPromise;
    await until(() => trace.includes('disconnect:client said bye'), 'onDisconnect');
    expect(logs.lines.some((line) => line.msg === 'tcp connection closed' && line.reason === 'client said bye')).toBe(true);
  });

  it('a peer closing is reported as `closed by peer`, after its last frame was handled', async () => {
    const peer = await open();
    await peer.write('\u0002hello b\n\u0002last\n');
    peer.socket.end();
    await until(() => trace.some((line) => line.startsWith('disconnect:')), 'onDisconnect');
    expect(trace.slice(-2)).toEqual(['B:LAST:false', 'disconnect:closed by peer']);
  });

  it('handler errors are logged and the connection goes on; garbage bytes never crash', async () => {
    const { gateway: g, logs: l } = newGateway();
    const seen: TcpFrame[] = [];
    g.onMessage((frame) => {
      seen.push(frame);
      if (String(frame) === 'throw') throw new Error('handler bug');
    });
    const listener = await g.listen({ port: 0, framing: { type: 'line' }, maxFrameBytes: 1024 });
    const peer = await RawPeer.open(listener.port);
    try {
      await peer.write('throw\n');
      await peer.write(Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x28, 0x0a])); // invalid UTF-8, then \n
      await peer.write('after\n');
      await until(() => seen.length === 3, 'three frames');
      expect(seen[2]).toBe('after');
      expect(typeof seen[1]).toBe('string');
      expect(l.lines.some((line) => line.msg === 'tcp handler failed')).toBe(true);
    } finally {
      await peer.close();
      await g.close();
    }
  });

  it('rejects bad registrations at once', () => {
    expect(() => gateway.onMessage('', () => undefined)).toThrow(/client type/);
    expect(() => gateway.classify(42 as unknown as () => string)).toThrow(/classify expects a function/);
    expect(() => gateway.afterReceive('x' as unknown as () => null)).toThrow(/afterReceive/);
    return expect(gateway.listen({ port: 70_000, framing: { type: 'line' } })).rejects.toThrow(/port must be/);
  });
});
