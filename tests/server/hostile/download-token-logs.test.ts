/**
 * One-time download tokens never reach a log line (issue 12, item 6), whatever the request that
 * carries one: sent byte for byte over a raw socket in hostile forms (extra segments, encoded
 * slashes, doubled slashes, other case, NUL, a request node cannot parse, a file gone since the
 * link was made), with every log line kept at trace level.
 */
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomFile } from '../download/harness.js';
import { startDownloadTokenServer } from './download-server.js';
import type { DownloadTokenServer } from './download-server.js';
import { exchange, head } from './raw-http.js';

let t: DownloadTokenServer;

beforeAll(async () => {
  t = await startDownloadTokenServer({}, 'trace');
}, 60_000);

afterAll(async () => {
  await t?.close();
});

describe('download tokens in the logs of hostile requests', () => {
  it('appear in no log line, whatever the form of the URL and however the request ends', async () => {
    const path = join(t.dir, 'report.bin');
    await randomFile(path, 1000);
    const { guid, token } = await t.api.prepare(path, 'report.bin');
    const gone = join(t.dir, 'gone.bin');
    await randomFile(gone, 1000);
    const lost = await t.api.prepare(gone, 'gone.bin');
    await unlink(gone);
    const requests: string[] = [
      head('GET', `/api/download/${guid}/${token}/extra`),
      head('GET', `/api/download/${guid}%2F${token}`),
      head('GET', `/api/download/${guid}%2f${token}`),
      head('GET', `//api/download/${guid}/${token}`),
      head('GET', `/api//download/${guid}/${token}`),
      head('GET', `/api/download//${guid}/${token}`),
      head('GET', `/API/DOWNLOAD/${guid}/${token}`),
      head('GET', `/api/download/${guid}/${token}%00`),
      head('GET', `/api/download/${guid}/${token}%zz`),
      head('POST', `/api/download/${guid}/${token}`),
      head('BREW', `/api/download/${guid}/${token}`),
      head('GET', `/api/download/${guid}/${token}`, { 'X-Junk': 'j'.repeat(100_000) }),
      `GET /api/download/${guid}/${token} HTTP/1.1\r\nHost: x\r\nBad\u0000Header: 1\r\n\r\n`,
      head('GET', `/api/download/${lost.guid}/${lost.token}`),
    ];
    for (const request of requests) {
      const answer = await exchange(t.port, request);
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(answer.status).toBeLessThan(500);
    }
    const text = t.logs.map((line) => JSON.stringify(line)).join('\n');
    expect(text).toContain('incoming request');
    expect(text).not.toContain(token);
    expect(text).not.toContain(lost.token);
    // Nothing was served: the real link still works once.
    expect((await exchange(t.port, head('GET', `/api/download/${guid}/${token}`))).status).toBe(200);
  }, 60_000);
});
