/** One-time download tokens travel in the URL: no log line may hold one. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import { createLogger } from '../../../src/helper/logging.js';
import { parseConfig } from '../../../src/server/config.js';
import { FusionDownloadAPI } from '../../../src/server/download/impl.js';
import { redactUrl } from '../../../src/server/log-redaction.js';
import { FusionServer } from '../../../src/server/server.js';
import type { KnexStorage } from '../../../src/server/storage/knex-storage.js';
import { freshStorage } from '../../helpers/storage.js';
import { logSink } from '../harness.js';
import { randomFile, tempDir } from './harness.js';

let storage: KnexStorage;
let server: FusionServer;
let api: FusionDownloadAPI;
let baseUrl: string;
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
  baseUrl = await server.listen({ host: '127.0.0.1', port: 0 });
}, 60_000);

afterAll(async () => {
  await server?.close();
  await storage?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('download tokens in logs', () => {
  it('redacts the token of a download URL', () => {
    expect(redactUrl('/api/download/0f6c2d9a-3b1e-4f5a-9c8d-7e6f5a4b3c2d/s3cr3t?x=1')).toBe('/api/download/0f6c2d9a-3b1e-4f5a-9c8d-7e6f5a4b3c2d/[redacted]?x=1');
    expect(redactUrl('/api/download/g/a/b/c')).toBe('/api/download/g/[redacted]');
    expect(redactUrl('/api/cases?limit=3')).toBe('/api/cases?limit=3');
  });

  it('writes no log line holding a token: served, refused, malformed and unknown', async () => {
    const path = join(dir, 'report.bin');
    await randomFile(path, 1000);
    const key = await api.prepare(path, 'report.bin');
    const other = await api.prepare(path, 'again.bin');
    const urls = [
      FusionDownloadAPI.pathOf(key),
      FusionDownloadAPI.pathOf(key), // spent: refused
      `/api/download/${other.guid}/wrong${other.token}`,
      `/api/download/not-a-guid/${other.token}`,
      `/api/download/${other.guid}/${other.token}/extra`,
      `/api/download/${other.guid}/${other.token}%00`,
    ];
    for (const url of urls) {
      const answer = await request(`${baseUrl}${url}`);
      await answer.body.dump();
    }
    const text = sink.lines.map((line) => JSON.stringify(line)).join('\n');
    expect(text).toContain('[redacted]');
    expect(text).toContain('incoming request');
    expect(text).not.toContain(key.token);
    expect(text).not.toContain(other.token);
  });
});
