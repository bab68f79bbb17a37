/**
 * A file overwritten between the read of its row and the read of its bytes (GET /api/cloud/file
 * and one-time links): the answer is one whole version, its Content-Length, Content-Range and
 * ETag those of the bytes sent. The overwrite runs at that moment through a hook on the real
 * driver's `open` (a real upload through the client, awaited), so the race happens every run.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { Pool } from 'undici';
import { FusionCloudAPI } from '../../../src/server/cloud/impl.js';
import type { CloudDriver } from '../../../src/server/cloud/driver.js';
import { describeStorage } from '../../helpers/storage.js';
import { startCloud } from './harness.js';
import type { CloudHarness } from './harness.js';

const OLD = Buffer.from('the old content, much longer than the new one: '.repeat(50));
const NEW = Buffer.from('the new content');
const sha = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

describeStorage('cloud reads of a file overwritten meanwhile', (getStorage) => {
  let cloud: CloudHarness;
  let pool: Pool;
  let driver: CloudDriver;
  let apiKey: Record<string, string>;

  beforeAll(async () => {
    cloud = await startCloud({ storage: getStorage(), config: { download: { resume_window: 30 } } });
    pool = new Pool(cloud.server.baseUrl);
    driver = cloud.server.server.findApi(FusionCloudAPI)!.driver;
    apiKey = { 'x-fusion-api-token': cloud.server.apiKey };
    await cloud.jane.createDirectory('/race');
  }, 60_000);
  afterAll(async () => {
    await pool?.close();
    await cloud?.close();
  });

  /** Runs `read` with the file at `path` holding OLD, replaced by NEW (a real upload) when the driver is asked to open it. */
  async function duringOverwrite<T>(path: string, read: () => Promise<T>): Promise<{ result: T; replaced: number }> {
    await cloud.jane.upload(OLD, path, { overwrite: true });
    const original = driver.open;
    let replaced = 0;
    driver.open = async function (this: CloudDriver, opened: string) {
      if (replaced === 0) {
        replaced++;
        await cloud.jane.upload(NEW, path, { overwrite: true });
      }
      return original.call(this, opened);
    };
    try {
      return { result: await read(), replaced };
    } finally {
      driver.open = original;
    }
  }

  async function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; bytes: Buffer }> {
    const answer = await pool.request({ path, method: 'GET', headers });
    const bytes = Buffer.from(await answer.body.arrayBuffer());
    return { status: answer.statusCode, headers: answer.headers, bytes };
  }

  it('GET /api/cloud/file sends the version it opened: length, bytes and ETag agree', async () => {
    const { result, replaced } = await duringOverwrite('/race/whole.txt', () => get('/api/cloud/file/race/whole.txt', apiKey));
    expect(replaced).toBe(1);
    expect(result.status).toBe(200);
    expect(result.headers['content-length']).toBe(String(NEW.length));
    expect(result.bytes.equals(NEW)).toBe(true);
    expect(result.headers.etag).toBe(`"${sha(NEW)}"`);
  });

  it('a Range is taken against the version opened (416 past its end, with its size)', async () => {
    const { result } = await duringOverwrite('/race/range.txt', () => get('/api/cloud/file/race/range.txt', { ...apiKey, range: `bytes=100-199` }));
    expect(result.status).toBe(416);
    expect(result.headers['content-range']).toBe(`bytes */${NEW.length}`);
    const { result: inside } = await duringOverwrite('/race/range.txt', () => get('/api/cloud/file/race/range.txt', { ...apiKey, range: 'bytes=4-6' }));
    expect(inside.status).toBe(206);
    expect(inside.headers['content-range']).toBe(`bytes 4-6/${NEW.length}`);
    expect(inside.bytes.toString()).toBe('new');
  });

  it('a one-time link sends the version it opened', async () => {
    await cloud.jane.upload(OLD, '/race/link.txt', { overwrite: true });
    const link = await cloud.jane.link('/race/link.txt');
    const { result, replaced } = await duringOverwrite('/race/link.txt', () => get(link.url));
    expect(replaced).toBe(1);
    expect(result.status).toBe(200);
    expect(result.headers['content-length']).toBe(String(NEW.length));
    expect(result.bytes.equals(NEW)).toBe(true);
    expect(result.headers.etag).toBe(`"${sha(NEW)}"`);
  });
});
