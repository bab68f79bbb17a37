/**
 * Abandoned tus uploads expire (`cloud.upload_expiry`), local driver: a sweep as of a time past
 * the expiry removes unfinished uploads with their partial data (real files), keeps fresh ones,
 * and leaves an upload a request is writing for the next sweep. Answers carry Upload-Expires.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request } from 'undici';
import { readCloudConfig } from '../../../src/server/cloud/config.js';
import { FusionCloudAPI } from '../../../src/server/cloud/impl.js';
import { UPLOAD_EXPIRY_TASK, sweepInterval } from '../../../src/server/cloud/upload-expiry.js';
import { describeStorage } from '../../helpers/storage.js';
import { startCloud } from './harness.js';
import type { CloudHarness } from './harness.js';

const EXPIRY = 3600;
const TUS = { 'tus-resumable': '1.0.0' };

describe('cloud.upload_expiry', () => {
  it('defaults to one day, 0 turns it off, a negative or fractional value names the key; sweeps every quarter of it, 1 min to 1 h', () => {
    expect(readCloudConfig({}).uploadExpiry).toBe(86400);
    expect(readCloudConfig({ upload_expiry: 0 }).uploadExpiry).toBe(0);
    expect(() => readCloudConfig({ upload_expiry: -1 })).toThrow(/upload_expiry/);
    expect(() => readCloudConfig({ upload_expiry: 1.5 })).toThrow(/upload_expiry/);
    expect([sweepInterval(86400), sweepInterval(1200), sweepInterval(10)]).toEqual([3600, 300, 60]);
  });
});

describeStorage('cloud tus upload expiry (local driver)', (getStorage) => {
  let cloud: CloudHarness;
  let api: FusionCloudAPI;
  let key: Record<string, string>;
  const uploads = (): string => join(cloud.root, '.fusion-uploads');
  const later = (): Date => new Date(Date.now() + (EXPIRY + 60) * 1000);

  beforeAll(async () => {
    cloud = await startCloud({ storage: getStorage(), cloud: { upload_expiry: EXPIRY } });
    api = cloud.server.server.findApi(FusionCloudAPI)!;
    key = { 'x-fusion-api-token': cloud.server.apiKey };
  }, 60_000);
  afterAll(async () => {
    await cloud?.close();
  });

  async function create(path: string, length: number): Promise<{ url: string; expires: string | undefined }> {
    const metadata = `path ${Buffer.from(path).toString('base64')}`;
    const created = await request(`${cloud.server.baseUrl}/api/cloud/uploads/`, { method: 'POST', headers: { ...TUS, ...key, 'upload-length': String(length), 'upload-metadata': metadata } });
    await created.body.dump();
    expect(created.statusCode).toBe(201);
    return { url: `${cloud.server.baseUrl}${created.headers.location as string}`, expires: created.headers['upload-expires'] as string | undefined };
  }

  async function patch(url: string, offset: number, body: string | Readable): Promise<{ status: number; headers: Record<string, unknown> }> {
    const answer = await request(url, { method: 'PATCH', headers: { ...TUS, ...key, 'upload-offset': String(offset), 'content-type': 'application/offset+octet-stream' }, body });
    await answer.body.dump();
    return { status: answer.statusCode, headers: answer.headers };
  }

  async function headStatus(url: string): Promise<number> {
    const head = await request(url, { method: 'HEAD', headers: { ...TUS, ...key } });
    await head.body.dump();
    return head.statusCode;
  }

  it('runs as a server task on each instance (the local uploads are its own)', () => {
    const task = cloud.server.server.tasks.find((t) => t.name === UPLOAD_EXPIRY_TASK);
    expect(task).toMatchObject({ on: 'interval', singleton: false, immediate: true });
  });

  it('removes unfinished uploads older than the expiry with their data, keeps fresh ones, answers Upload-Expires', async () => {
    const begun = await create('/begun.bin', 10);
    expect(Date.parse(begun.expires!)).toBeGreaterThan(Date.now() + (EXPIRY - 60) * 1000);
    const half = await patch(begun.url, 0, '01234');
    expect(half.status).toBe(204);
    expect(Date.parse(half.headers['upload-expires'] as string)).toBe(Date.parse(begun.expires!));
    const empty = await create('/empty.bin', 10);
    const ids = [begun.url, empty.url].map((url) => url.split('/').at(-1)!);
    expect((await readdir(uploads())).sort()).toEqual(ids.flatMap((id) => [id, `${id}.json`]).sort());

    expect(await api.expireUploads()).toBe(0);
    expect(await readdir(uploads())).toHaveLength(4);

    expect(await api.expireUploads(later())).toBe(2);
    expect(await readdir(uploads())).toEqual([]);
    expect(await headStatus(begun.url)).toBe(404);
    expect((await patch(empty.url, 0, '0123456789')).status).toBe(404);
  });

  it('leaves an upload a PATCH is writing (its lock is busy) for the next sweep', async () => {
    const busy = await create('/busy.bin', 10);
    const id = busy.url.split('/').at(-1)!;
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const writing = patch(
      busy.url,
      0,
      Readable.from(
        (async function* () {
          yield Buffer.from('012');
          await released;
          yield Buffer.from('34');
        })(),
      ),
    );
    // Wait until the first bytes are on disk: the PATCH holds the lock from then on.
    const deadline = Date.now() + 20_000;
    while ((await stat(join(uploads(), id))).size < 3 && Date.now() < deadline) await new Promise((done) => setTimeout(done, 20));
    expect((await stat(join(uploads(), id))).size).toBe(3);
    expect(await api.expireUploads(later())).toBe(0);
    release();
    expect((await writing).status).toBe(204);
    expect(await api.expireUploads(later())).toBe(1);
    expect(await readdir(uploads())).toEqual([]);
  });
});
