/**
 * One-time download tokens never reach a log line (issue 12, item 6), whatever the request that
 * carries one: sent byte for byte over a raw socket in hostile forms (extra segments, encoded
 * slashes, doubled slashes, other case, NUL, a request node cannot parse, a file gone since the
 * link was made), with every log line kept at trace level.
 */
import { rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createLogger } from '../../../src/helper/logging.js';
import { parseConfig } from '../../../src/server/config.js';
import { FusionDownloadAPI } from '../../../src/server/download/impl.js';
import { FusionServer } from '../../../src/server/server.js';
import type { KnexStorage } from '../../../src/server/storage/knex-storage.js';
import { freshStorage } from '../../helpers/storage.js';
import { randomFile, tempDir } from '../download/harness.js';
import { logSink } from '../harness.js';
import { exchange, head } from './raw-http.js';

let storage: KnexStorage;
let server: FusionServer;
let api: FusionDownloadAPI;
let port: number;
let dir: string;
const sink = logSink();

beforeAll(async () => {
  storage = await freshStorage('pglite');
  dir = await tempDir();
  api = new FusionDownloadAPI();
  server = new FusionServer({
    config: parseConfig({ server: { docs: false, log_requests: true } }),
    storage,
    apis: [api],
    logger: createLogger({ stream: sink.stream, level: 'trace' }),
  });
  port = Number(new URL(await server.listen({ host: '127.0.0.1', port: 0 })).port);
}, 60_000);

afterAll(async () => {
  await server?.close();
  await storage?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('download tokens in the logs of hostile requests', () => {
  it('appear in no log line, whatever the form of the URL and however the request ends', async () => {
    const path = join(dir, 'report.bin');
    await randomFile(path, 1000);
    const { guid, token } = await api.prepare(path, 'report.bin');
    const gone = join(dir, 'gone.bin');
    await randomFile(gone, 1000);
    const lost = await api.prepare(gone, 'gone.bin');
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
      const answer = await exchange(port, request);
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(answer.status).toBeLessThan(500);
    }
    const text = sink.lines.map((line) => JSON.stringify(line)).join('\n');
    expect(text).toContain('incoming request');
    expect(text).not.toContain(token);
    expect(text).not.toContain(lost.token);
    // Nothing was served: the real link still works once.
    expect((await exchange(port, head('GET', `/api/download/${guid}/${token}`))).status).toBe(200);
  }, 60_000);
});
