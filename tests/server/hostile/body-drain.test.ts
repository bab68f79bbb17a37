/**
 * A too-large body sent whole without `Expect:` (issue 12, item 4): the server reads and throws
 * away the rest of it up to a bound, then answers 413 in the envelope and closes the
 * connection. Over a raw socket: the answer closes a keep-alive connection, and a body far
 * past the bound is cut off instead of being read to its end.
 */
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { MAX_DRAINED_BYTES } from '../../../src/server/body-drain.js';
import { silenceAudit, usePgliteCaseServer } from '../case/helpers.js';
import { exchange, head } from './raw-http.js';

silenceAudit();

const MB = 1024 * 1024;
const env = usePgliteCaseServer();
let port: number;

beforeAll(() => {
  port = Number(new URL(env.server.baseUrl).port);
});

/** A keep-alive request head (no `Connection: close`) with a JSON Content-Length of `length`. */
function keepAliveHead(length: number): string {
  return head('POST', '/api/case', { 'Content-Type': 'application/json', 'X-Fusion-API-Token': env.server.apiKey }, length).replace('Connection: close\r\n', '');
}

interface Sent {
  /** Body bytes handed to the socket before the server closed it. */
  written: number;
  received: string;
}

/** Sends `head`, then `total` body bytes in 1 MB chunks until done or the server closes; resolves on close (bounded). */
function sendUntilClosed(headText: string, total: number, boundMs: number): Promise<Sent> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let written = 0;
    let closed = false;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server did not close the connection within ${boundMs} ms (${written} bytes written)`));
    }, boundMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed = true;
      clearTimeout(timer);
      resolve({ written, received: Buffer.concat(chunks).toString('latin1') });
    });
    const chunk = Buffer.alloc(MB, 0x61);
    void (async () => {
      socket.write(headText);
      while (!closed && written < total) {
        const piece = total - written >= MB ? chunk : chunk.subarray(0, total - written);
        written += piece.length;
        if (!socket.write(piece)) {
          await new Promise<void>((r) => {
            socket.once('drain', r);
            socket.once('close', r);
          });
        }
      }
    })();
  });
}

describe('a too-large body sent whole', () => {
  it('is answered 413 in the envelope, and the keep-alive connection is closed after it', async () => {
    const sent = await sendUntilClosed(keepAliveHead(10 * MB), 10 * MB, 30_000);
    const [headPart = '', body = ''] = sent.received.split('\r\n\r\n');
    expect(headPart).toMatch(/^HTTP\/1\.1 413 /);
    expect(headPart).toMatch(/\r\nconnection: close/i);
    expect(JSON.parse(body)).toMatchObject({ status: 413, code: 'FUSION_ERR_BODY_TOO_LARGE' });
    expect(sent.written).toBe(10 * MB);
  }, 60_000);

  it('is read up to the drain bound, no further: a body far past it is cut off there, and the server lives on', async () => {
    const total = 2 * MAX_DRAINED_BYTES + 16 * MB;
    const sent = await sendUntilClosed(keepAliveHead(total), total, 90_000);
    expect(sent.written).toBeGreaterThan(MAX_DRAINED_BYTES);
    expect(sent.written).toBeLessThan(total);
    const health = await exchange(port, head('GET', '/api/health'));
    expect(health.status).toBe(200);
  }, 120_000);
});
