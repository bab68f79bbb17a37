/**
 * FusionCloudAPIClient through a real TCP proxy that cuts the connection mid-body: `download`
 * resumes with Range (If-Range: the ETag) and the file is byte-identical, with no temporary left;
 * `onProgress` of plain uploads and downloads reports growing byte counts up to the total.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { FusionClient } from '../../../src/client/client.js';
import { FusionCloudAPIClient } from '../../../src/client/api/cloud.js';
import { describeStorage } from '../../helpers/storage.js';
import { startCuttingProxy } from '../download/cutting-proxy.js';
import type { CuttingProxy } from '../download/cutting-proxy.js';
import { startCloud } from './harness.js';
import type { CloudHarness } from './harness.js';

const SIZE = 3 * 1024 * 1024 + 17;

describeStorage('cloud client: download resumed after a cut, progress', (getStorage) => {
  let cloud: CloudHarness;
  let proxy: CuttingProxy;
  let client: FusionClient;
  let viaProxy: FusionCloudAPIClient;
  let work: string;
  let data: Buffer;

  beforeAll(async () => {
    cloud = await startCloud({ storage: getStorage() });
    proxy = await startCuttingProxy(cloud.server.baseUrl);
    client = new FusionClient({ baseUrl: proxy.url, apiKey: cloud.server.apiKey });
    viaProxy = new FusionCloudAPIClient({ client });
    work = await mkdtemp(join(tmpdir(), 'fusion-cloud-resume-'));
    data = randomBytes(SIZE);
    await writeFile(join(work, 'source.bin'), data);
  }, 60_000);
  afterAll(async () => {
    await client?.close();
    await proxy?.close();
    await cloud?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('a plain upload reports its progress up to the file size', async () => {
    await cloud.service.createDirectory('/res');
    const progress: [number, number | null][] = [];
    const entry = await cloud.service.upload(join(work, 'source.bin'), '/res/big.bin', { onProgress: (bytes, total) => progress.push([bytes, total]) });
    expect(entry).toMatchObject({ size: SIZE, sha256: createHash('sha256').update(data).digest('hex') });
    expect(progress.length).toBeGreaterThan(1);
    expect(progress.at(-1)).toEqual([SIZE, SIZE]);
    const counts = progress.map(([bytes]) => bytes);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
  });

  it('download resumes with Range and If-Range after the connection is cut mid-body; the file is whole', async () => {
    const out = join(work, 'out', 'back.bin');
    await mkdir(join(work, 'out'));
    const seen = proxy.requests.length;
    const progress: number[] = [];
    proxy.cutNextAfter(1024 * 1024 + 333);
    const result = await viaProxy.download('/res/big.bin', out, { onProgress: (bytes) => progress.push(bytes) });
    expect(proxy.cuts).toBe(1);
    expect(result.bytes).toBe(SIZE);
    expect((await readFile(out)).equals(data)).toBe(true);
    const requests = proxy.requests.slice(seen);
    expect(requests).toHaveLength(2);
    expect(requests[0]!.headers.range).toBeUndefined();
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(requests[1]!.headers.range ?? '')?.[1]);
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThan(SIZE);
    expect(requests[1]!.headers['if-range']).toBe(`"${createHash('sha256').update(data).digest('hex')}"`);
    expect(progress.at(-1)).toBe(SIZE);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(await readdir(join(work, 'out'))).toEqual(['back.bin']);
  }, 60_000);
});
