import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { FrameCodec, FramingError } from '../../../src/helper/framing.js';
import type { FramingOptions, TcpFrame } from '../../../src/helper/framing.js';
import type { FusionTcpGateway } from '../../../src/server/tcp/gateway.js';
import { RawPeer, newGateway, until } from './helpers.js';
import type { LogCollector } from './helpers.js';

/** STX <payload> ETX framing, as some alarm panels speak. */
const stxEtx: FramingOptions = {
  type: 'custom',
  encoding: 'binary',
  split(buffer) {
    const end = buffer.indexOf(0x03);
    if (end < 0) return null;
    const start = buffer.indexOf(0x02);
    return { frame: buffer.subarray(start >= 0 && start < end ? start + 1 : 0, end), consumed: end + 1 };
  },
  encode: (frame) => Buffer.concat([Buffer.from([0x02]), frame, Buffer.from([0x03])]),
};

const framings: [string, FramingOptions][] = [
  ['line \\n', { type: 'line' }],
  ['line \\r\\n', { type: 'line', delimiter: '\r\n' }],
  ['line with a 3-byte delimiter', { type: 'line', delimiter: Buffer.from([0xde, 0xad, 0xbe]), encoding: 'binary' }],
  ['length-prefixed u16', { type: 'length-prefixed', prefixBytes: 2, encoding: 'binary' }],
  ['length-prefixed u32', { type: 'length-prefixed', prefixBytes: 4 }],
  ['custom STX/ETX', stxEtx],
];

/** Cuts `bytes` at the given offsets. */
function cut(bytes: Buffer, offsets: number[]): Buffer[] {
  const points = [...new Set(offsets.map((o) => o % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const point of [...points, bytes.length]) {
    chunks.push(bytes.subarray(from, point));
    from = point;
  }
  return chunks;
}

describe('FrameCodec', () => {
  it.each(framings)('%s: any cut of the encoded stream gives back the same frames (zero-length included)', (_name, framing) => {
    const forbidden = framing.type === 'line' ? Buffer.from(framing.delimiter ?? '\n') : framing.type === 'custom' ? Buffer.from([0x03]) : null;
    const text = (framing.encoding ?? 'utf8') === 'utf8';
    const frameArb = fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes)).filter((b) => {
      if (text && b.toString('utf8') !== Buffer.from(b.toString('utf8')).toString('utf8')) return false;
      if (text && !Buffer.from(b.toString('utf8'), 'utf8').equals(b)) return false;
      return forbidden === null || (!b.includes(forbidden) && !(framing.type === 'custom' && b.includes(0x02)));
    });
    fc.assert(
      fc.property(fc.array(frameArb, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 20 }), (frames, offsets) => {
        const sender = new FrameCodec(framing, 1000);
        const receiver = new FrameCodec(framing, 1000);
        const wire = Buffer.concat(frames.map((f) => sender.encode(text ? f.toString('utf8') : f)));
        const got: TcpFrame[] = [];
        for (const chunk of cut(wire, offsets)) got.push(...receiver.push(chunk));
        expect(got.map((f) => (typeof f === 'string' ? Buffer.from(f) : Buffer.from(f)))).toEqual(frames);
        expect(receiver.pendingBytes).toBe(0);
      }),
      { numRuns: 150 },
    );
  });

  it('a delimiter split across chunks is still found (partial delimiters)', () => {
    const codec = new FrameCodec({ type: 'line', delimiter: '\r\n' }, 100);
    expect(codec.push(Buffer.from('abc\r'))).toEqual([]);
    expect(codec.push(Buffer.from('\ndef\r'))).toEqual(['abc']);
    expect(codec.push(Buffer.from('x\r\n'))).toEqual(['def\rx']);
  });

  it('refuses a frame over the limit, a delimiter inside a line frame, and a u16 length overflow', () => {
    const line = new FrameCodec({ type: 'line' }, 4);
    expect(() => line.push(Buffer.from('abcde'))).toThrow(FramingError);
    expect(() => new FrameCodec({ type: 'line' }, 10).encode('a\nb')).toThrow(/delimiter/);
    const u16 = new FrameCodec({ type: 'length-prefixed', prefixBytes: 2 }, 100_000);
    expect(() => u16.encode(Buffer.alloc(70_000))).toThrow(/u16/);
    const u32 = new FrameCodec({ type: 'length-prefixed' }, 10);
    expect(() => u32.push(Buffer.from([0xff, 0xff, 0xff, 0xff]))).toThrow(/max_frame_bytes \(4294967295 > 10/);
    try {
      line.push(Buffer.from('x'));
    } catch (error) {
      expect((error as FramingError).code).toBe('FUSION_ERR_TCP_FRAMING');
    }
  });

  it('refuses a custom splitter that consumes nothing, and bad framing options', () => {
    const codec = new FrameCodec({ type: 'custom', split: (b) => ({ frame: b, consumed: 0 }), encode: (f) => f }, 10);
    expect(() => codec.push(Buffer.from('a'))).toThrow(/consumed 0/);
    expect(() => new FrameCodec({ type: 'line', delimiter: '' }, 10)).toThrow(/delimiter/);
    expect(() => new FrameCodec({ type: 'length-prefixed', prefixBytes: 3 as 2 }, 10)).toThrow(/prefixBytes/);
    expect(() => new FrameCodec({ type: 'morse' } as unknown as FramingOptions, 10)).toThrow(/framing.type/);
    expect(() => new FrameCodec({ type: 'line' }, 0)).toThrow(/maxFrameBytes/);
  });
});

describe('gateway framing over real sockets', () => {
  let gateway: FusionTcpGateway;
  let logs: LogCollector;
  const received = new Map<string, TcpFrame[]>();
  const reasons = new Map<string, string>();
  const ports: Record<string, number> = {};

  beforeAll(async () => {
    ({ gateway, logs } = newGateway());
    gateway.onConnect((c) => received.set(c.id, []));
    gateway.onMessage((frame, c) => {
      received.get(c.id)!.push(frame);
      c.send(frame);
    });
    gateway.onDisconnect((c, reason) => reasons.set(c.id, reason));
    ports.line = (await gateway.listen({ name: 'line', port: 0, framing: { type: 'line', delimiter: '\r\n' }, maxFrameBytes: 64 })).port;
    ports.u16 = (await gateway.listen({ name: 'u16', port: 0, framing: { type: 'length-prefixed', prefixBytes: 2, encoding: 'binary' }, maxFrameBytes: 64 })).port;
    ports.custom = (await gateway.listen({ name: 'custom', port: 0, framing: stxEtx, maxFrameBytes: 64 })).port;
  });

  afterAll(async () => {
    await gateway?.close();
  });

  it('line: frames split byte by byte and coalesced in one write arrive whole and in order, empty lines included', async () => {
    const peer = await RawPeer.open(ports.line!);
    try {
      for (const byte of Buffer.from('sp\r')) await peer.write(Buffer.from([byte]));
      await peer.write('\nlit\r\n\r\none\r\ntwo\r\nthree\r\n');
      await peer.waitForText('three\r\n');
      expect(peer.text).toBe('sp\r\nlit\r\n\r\none\r\ntwo\r\nthree\r\n');
      const frames = [...received.values()].find((list) => list[0] === 'sp');
      expect(frames).toEqual(['sp', 'lit', '', 'one', 'two', 'three']);
    } finally {
      await peer.close();
    }
  });

  it('length-prefixed u16: a zero-length frame, and a frame whose header is split', async () => {
    const peer = await RawPeer.open(ports.u16!);
    try {
      await peer.write(Buffer.from([0x00, 0x00, 0x00]));
      await peer.write(Buffer.from([0x03, 0x61, 0x62]));
      await peer.write(Buffer.from([0x63]));
      await until(() => peer.received.length === 7, 'two echoed frames');
      expect([...peer.received]).toEqual([0, 0, 0, 3, 0x61, 0x62, 0x63]);
    } finally {
      await peer.close();
    }
  });

  it('custom splitter: STX/ETX frames, Buffers in the handler', async () => {
    const peer = await RawPeer.open(ports.custom!);
    try {
      await peer.write(Buffer.from([0x02, 0x41, 0x03, 0x02, 0x42]));
      await peer.write(Buffer.from([0x43, 0x03]));
      await until(() => peer.received.length === 7, 'echo');
      expect([...peer.received]).toEqual([0x02, 0x41, 0x03, 0x02, 0x42, 0x43, 0x03]);
      const frames = [...received.values()].find((list) => list.length === 2 && String(list[0]) === 'A');
      expect(frames?.every((f) => Buffer.isBuffer(f))).toBe(true);
      expect(frames?.map((f) => f.toString())).toEqual(['A', 'BC']);
    } finally {
      await peer.close();
    }
  });

  it.each([
    ['line without delimiter past max_frame_bytes', 'line', Buffer.alloc(200, 0x61)],
    ['u16 length over max_frame_bytes', 'u16', Buffer.from([0xff, 0xff, 0x00])],
    ['custom frame over max_frame_bytes', 'custom', Buffer.concat([Buffer.from([0x02]), Buffer.alloc(100, 0x61), Buffer.from([0x03])])],
  ])('oversize (%s): the connection is closed with a logged reason', async (_name, listener, bytes) => {
    const peer = await RawPeer.open(ports[listener]!);
    try {
      await peer.write(bytes).catch(() => undefined);
      await peer.closedPromise;
      await until(() => logs.lines.some((line) => line.msg === 'tcp connection closed: bad framing' && line.listener === listener), 'the log line');
      const line = logs.lines.find((l) => l.msg === 'tcp connection closed: bad framing' && l.listener === listener)!;
      expect(String(line.reason)).toMatch(/over max_frame_bytes \(\d+ > 64 bytes\)/);
      await until(() => [...reasons.values()].some((reason) => /over max_frame_bytes/.test(reason)), 'onDisconnect with the reason');
    } finally {
      await peer.close();
    }
  });

  it('keeps serving other connections after garbage on one', async () => {
    const bad = await RawPeer.open(ports.u16!);
    const good = await RawPeer.open(ports.u16!);
    try {
      await bad.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff])).catch(() => undefined);
      await bad.closedPromise;
      await good.write(Buffer.from([0x00, 0x01, 0x7a]));
      await until(() => good.received.length === 3, 'echo on the good connection');
    } finally {
      await bad.close();
      await good.close();
    }
  });
});
