import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FusionTcpClient } from '../../../src/client/tcp-client.js';
import type { TcpFrame } from '../../../src/helper/framing.js';
import type { FusionTcpConnection } from '../../../src/server/tcp/connection.js';
import type { FusionTcpGateway } from '../../../src/server/tcp/gateway.js';
import { RawPeer, newGateway, until } from './helpers.js';
import type { LogCollector } from './helpers.js';
import { makeTestPki } from './tls-files.js';
import type { TestPki } from './tls-files.js';

describe('gateway over TLS', () => {
  let pki: TestPki;
  let gateway: FusionTcpGateway;
  let logs: LogCollector;
  let port: number;
  const seen: { frame: TcpFrame; connection: FusionTcpConnection }[] = [];

  beforeAll(async () => {
    pki = makeTestPki('panel-7');
    ({ gateway, logs } = newGateway());
    gateway.onConnect((c) => {
      if (c.peerCertificate?.authorized) c.identify(c.peerCertificate.subject);
    });
    gateway.classify((first) => (String(first).startsWith('HELLO') ? 'panel' : null));
    gateway.onMessage('panel', (frame, c) => {
      seen.push({ frame, connection: c });
      c.send(`ack ${String(frame)}`);
    });
    ({ port } = await gateway.listen({
      port: 0,
      framing: { type: 'length-prefixed', prefixBytes: 2 },
      tls: { key: pki.serverKey, cert: pki.serverCert, ca: pki.caCert, requestCert: true, rejectUnauthorized: true },
    }));
  }, 60_000);

  afterAll(async () => {
    await gateway?.close();
    pki?.cleanup();
  });

  it('a client with a certificate of the CA connects; the connection carries its certificate and identity', async () => {
    const client = new FusionTcpClient({
      port,
      framing: { type: 'length-prefixed', prefixBytes: 2 },
      tls: { ca: pki.caCert, cert: pki.clientCert, key: pki.clientKey },
      reconnect: false,
    });
    const replies: TcpFrame[] = [];
    client.onConnect(() => client.send('HELLO 7'));
    client.onMessage((frame) => {
      replies.push(frame);
    });
    try {
      await client.connect();
      client.send('door open');
      await until(() => replies.length === 2, 'two acks');
      expect(replies).toEqual(['ack HELLO 7', 'ack door open']);
      const connection = seen[0]!.connection;
      expect(connection.clientType).toBe('panel');
      expect(connection.identity).toBe('panel-7');
      expect(connection.peerCertificate).toMatchObject({ subject: 'panel-7', authorized: true });
      expect(connection.peerCertificate!.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    } finally {
      await client.close();
    }
  });

  it('a client without a certificate, or speaking plain TCP, is refused at the handshake; the gateway goes on', async () => {
    const noCert = tlsConnect({ host: '127.0.0.1', port, ca: pki.caCert });
    noCert.on('error', () => undefined);
    await new Promise((resolve) => noCert.once('close', resolve));
    const plain = await RawPeer.open(port);
    await plain.write('HELLO in clear\n').catch(() => undefined);
    await plain.closedPromise;
    await until(() => logs.lines.filter((line) => line.msg === 'tls handshake failed').length >= 1, 'a logged handshake failure');
    expect(seen.every((s) => s.connection.identity === 'panel-7')).toBe(true);
  });
});
