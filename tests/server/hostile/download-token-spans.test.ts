/**
 * One-time download tokens never reach an exported span either: the request span's `url.path`
 * is the raw URL, redacted as the log lines are (served, spent, mistyped).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomFile } from '../download/harness.js';
import { useInMemorySdk } from '../telemetry/otel-sdk.js';
import { startDownloadTokenServer } from './download-server.js';
import type { DownloadTokenServer } from './download-server.js';
import { exchange, head } from './raw-http.js';

const sdk = useInMemorySdk();
let t: DownloadTokenServer;

beforeAll(async () => {
  t = await startDownloadTokenServer({ telemetry: { request_spans: true } }, 'info');
}, 60_000);

afterAll(async () => {
  await t?.close();
});

describe('download tokens in request spans', () => {
  it('appear in no span attribute: served, spent, mistyped', async () => {
    const path = join(t.dir, 'report.bin');
    await randomFile(path, 1000);
    const { guid, token } = await t.api.prepare(path, 'report.bin');
    const statuses: number[] = [];
    for (const url of [`/api/download/${guid}/${token}`, `/api/download/${guid}/${token}`, `//api/download/${guid}/${token}`, `/api/download/${guid}%2F${token}`]) {
      statuses.push((await exchange(t.port, head('GET', url))).status);
    }
    expect(statuses).toEqual([200, 404, 404, 404]);
    const requests = sdk.spans().filter((span) => span.name === 'request');
    expect(requests.length).toBeGreaterThanOrEqual(4);
    expect(requests.map((span) => span.attributes['url.path'])).toContain(`/api/download/${guid}/[redacted]`);
    expect(JSON.stringify(sdk.spans().map((span) => ({ name: span.name, attributes: span.attributes, events: span.events })))).not.toContain(token);
  }, 60_000);
});
