import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FusionTcpClient } from '../../../src/client/tcp-client.js';
import { ConfigError } from '../../../src/helper/config.js';
import type { TcpFrame } from '../../../src/helper/framing.js';
import { FusionTcpAPI } from '../../../src/server/tcp/impl.js';
import { readTcpConfig } from '../../../src/server/tcp/config.js';
import { createTestServer } from '../../../src/testing/create-test-server.js';
import type { TestServer } from '../../../src/testing/create-test-server.js';
import { until } from './helpers.js';
import { makeTestPki } from './tls-files.js';
import type { TestPki } from './tls-files.js';

function problem(raw: unknown): string {
  try {
    readTcpConfig(raw, { env: {} });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('the tcp section', () => {
  it('reads listeners with their framing and limits, with defaults', () => {
    const config = readTcpConfig({
      listeners: [
        { port: 7000 },
        { name: 'panels', port: 7001, host: '0.0.0.0', framing: 'line', delimiter: '\r\n', max_frame_bytes: 1024, idle_timeout: 60, max_connections: 5, max_buffered_bytes: 4096 },
        { name: 'binary', port: 7002, framing: 'length-prefixed', prefix_bytes: 2, encoding: 'binary' },
        { name: 'stx', port: 7003, framing: 'custom', splitter: 'stx-etx' },
      ].map((item, i) => (i === 0 ? { ...item, framing: 'line' } : item)),
    });
    expect(config.listeners[0]).toEqual({
      name: 'tcp-0',
      port: 7000,
      host: '127.0.0.1',
      framing: { type: 'line', delimiter: '\n', encoding: 'utf8' },
      maxFrameBytes: 65_536,
      idleTimeout: 300,
      maxConnections: 10_000,
      maxBufferedBytes: 1_048_576,
    });
    expect(config.listeners[1]).toMatchObject({ name: 'panels', host: '0.0.0.0', framing: { delimiter: '\r\n' }, maxFrameBytes: 1024, idleTimeout: 60, maxConnections: 5, maxBufferedBytes: 4096 });
    expect(config.listeners[2]!.framing).toEqual({ type: 'length-prefixed', prefixBytes: 2, encoding: 'binary' });
    expect(config.listeners[3]!.framing).toEqual({ type: 'custom', splitter: 'stx-etx' });
    expect(readTcpConfig(null)).toEqual({ listeners: [] });
  });

  it('names the bad key', () => {
    expect(problem({ listeners: {} })).toMatch(/^tcp\.listeners: expected a list/);
    expect(problem({ listeners: [{ framing: 'line' }] })).toBe('tcp.listeners[0].port: is required');
    expect(problem({ listeners: [{ port: 70000, framing: 'line' }] })).toMatch(/^tcp\.listeners\[0\]\.port: expected an integer between 0 and 65535/);
    expect(problem({ listeners: [{ port: 1, framing: 'lines' }] })).toMatch(/^tcp\.listeners\[0\]\.framing: expected one of .*did you mean `line`/);
    expect(problem({ listeners: [{ port: 1, framing: 'length-prefixed', prefix_bytes: 3 }] })).toBe('tcp.listeners[0].prefix_bytes: expected 2 or 4, got 3');
    expect(problem({ listeners: [{ port: 1, framing: 'line', delimiter: '' }] })).toMatch(/^tcp\.listeners\[0\]\.delimiter: expected a non-empty string/);
    expect(problem({ listeners: [{ port: 1, framing: 'line', max_frame_bytes: 0 }] })).toMatch(/^tcp\.listeners\[0\]\.max_frame_bytes: /);
    expect(problem({ listeners: [{ port: 1, framing: 'line', idle_timeout: -1 }] })).toMatch(/^tcp\.listeners\[0\]\.idle_timeout: /);
    expect(problem({ listeners: [{ port: 1, framing: 'line', max_conections: 3 }] })).toBe('tcp.listeners[0].max_conections: unknown key, did you mean `max_connections`?');
    expect(problem({ listeners: [{ port: 1, framing: 'custom' }] })).toBe('tcp.listeners[0].splitter: is required');
    expect(problem({ listeners: [{ port: 1, framing: 'line', tls: { cert: '/nonexistent.crt', key: 'k' } }] })).toMatch(/^tcp\.listeners\[0\]\.tls\.cert: cannot read \/nonexistent\.crt \(ENOENT\)/);
    expect(problem({ listeners: [{ port: 1, framing: 'line' }, { port: 2, framing: 'line', name: 'tcp-0' }] })).toMatch(/^tcp\.listeners\[1\]\.name: duplicate listener name "tcp-0"/);
    expect(problem({ listener: [] })).toMatch(/^tcp\.listener: unknown key, did you mean `listeners`/);
  });
});

describe('the tcp section on a FusionServer', () => {
  let pki: TestPki;
  let t: TestServer;

  beforeAll(async () => {
    pki = makeTestPki('device-1');
    const tcp = new FusionTcpAPI();
    tcp.gateway.defineFraming('stx-etx', {
      type: 'custom',
      split: (buffer) => {
        const end = buffer.indexOf(0x03);
        return end < 0 ? null : { frame: buffer.subarray(1, end), consumed: end + 1 };
      },
      encode: (frame) => Buffer.concat([Buffer.from([0x02]), frame, Buffer.from([0x03])]),
    });
    t = await createTestServer({
      apis: [tcp],
      config: {
        tcp: {
          listeners: [
            { name: 'plain', port: 0, framing: 'line', idle_timeout: 30 },
            { name: 'secure', port: 0, framing: 'length-prefixed', prefix_bytes: 2, tls: { cert: pki.paths.serverCert, key: pki.paths.serverKey } },
            { name: 'stx', port: 0, framing: 'custom', splitter: 'stx-etx' },
          ],
        },
      },
    });
  }, 60_000);

  afterAll(async () => {
    await t?.close();
    pki?.cleanup();
  });

  it('mounts FusionTcpAPI, starts every listener with the server, and handlers added after start see frames', async () => {
    const api = t.server.findApi(FusionTcpAPI)!;
    expect(api).toBeInstanceOf(FusionTcpAPI);
    expect(api.listeners.map((l) => [l.options.name, l.port > 0, Boolean(l.options.tls)])).toEqual([
      ['plain', true, false],
      ['secure', true, true],
      ['stx', true, false],
    ]);
    const got: TcpFrame[] = [];
    api.gateway.onMessage((frame, c) => {
      got.push(frame);
      c.send(`ok ${String(frame)}`);
    });
    const clients = [
      new FusionTcpClient({ port: api.listeners[0]!.port, framing: { type: 'line' }, reconnect: false }),
      new FusionTcpClient({ port: api.listeners[1]!.port, framing: { type: 'length-prefixed', prefixBytes: 2 }, tls: { ca: pki.caCert }, reconnect: false }),
      new FusionTcpClient({ port: api.listeners[2]!.port, framing: api.gateway.framing('stx-etx')!, reconnect: false }),
    ];
    const replies: TcpFrame[] = [];
    try {
      for (const client of clients) {
        client.onMessage((frame) => {
          replies.push(frame);
        });
        await client.connect();
      }
      clients[0]!.send('over tcp');
      clients[1]!.send('over tls');
      clients[2]!.send('over stx');
      await until(() => replies.length === 3, 'three replies');
      expect(replies.sort()).toEqual(['ok over stx', 'ok over tcp', 'ok over tls']);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });
});

describe('FusionTcpAPI start', () => {
  it('fails with a clear error when a listener names a framing nobody defined', async () => {
    const api = new FusionTcpAPI({ config: readTcpConfig({ listeners: [{ port: 0, framing: 'custom', splitter: 'nope' }] }) });
    try {
      await expect(api.start()).rejects.toThrow('tcp listener tcp-0: no framing defined as "nope" (gateway.defineFraming)');
    } finally {
      await api.close();
    }
  });
});
