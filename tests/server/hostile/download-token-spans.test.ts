/**
 * One-time download tokens never reach an exported span either: the request span's `url.path`
 * is the raw URL, redacted as the log lines are (served, spent, mistyped).
 */
import { rm } from 'node:fs/promises';
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
import { useInMemorySdk } from '../telemetry/otel-sdk.js';
import { exchange, head } from './raw-http.js';

const sdk = useInMemorySdk();
let storage: KnexStorage;
let server: FusionServer;
let api: FusionDownloadAPI;
let port: number;
let dir: string;

beforeAll(async () => {
  storage = await freshStorage('pglite');
  dir = await tempDir();
  api = new FusionDownloadAPI();
  server = new FusionServer({
    config: parseConfig({ server: { docs: false }, telemetry: { request_spans: true } }),
    storage,
    apis: [api],
    logger: createLogger({ stream: logSink().stream, level: 'info' }),
  });
  port = Number(new URL(await server.listen({ host: '127.0.0.1', port: 0 })).port);
}, 60_000);

afterAll(async () => {
  await server?.close();
  await storage?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('download tokens in request spans', () => {
  it('appear in no span attribute: served, spent, mistyped', async () => {
    const path = join(dir, 'report.bin');
    await randomFile(path, 1000);
    const { guid, token } = await api.prepare(path, 'report.bin');
    const statuses: number[] = [];
    for (const url of [`/api/download/${guid}/${token}`, `/api/download/${guid}/${token}`, `//api/download/${guid}/${token}`, `/api/download/${guid}%2F${token}`]) {
      statuses.push((await exchange(port, head('GET', url))).status);
    }
    expect(statuses).toEqual([200, 404, 404, 404]);
    const requests = sdk.spans().filter((span) => span.name === 'request');
    expect(requests.length).toBeGreaterThanOrEqual(4);
    expect(requests.map((span) => span.attributes['url.path'])).toContain(`/api/download/${guid}/[redacted]`);
    expect(JSON.stringify(sdk.spans().map((span) => ({ name: span.name, attributes: span.attributes, events: span.events })))).not.toContain(token);
  }, 60_000);
});
