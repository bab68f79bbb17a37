/**
 * An upload past `cloud.upload_expiry` is gone for tus before any sweep removes it: HEAD and PATCH
 * answer 410 (PATCH in the envelope), nothing is written, and the sweep then removes it (404).
 * On the local driver and on S3 (radosgw, the upload made on A and asked about on B).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { FusionCloudAPI } from '../../../src/server/cloud/impl.js';
import { describeS3 } from '../../helpers/s3-endpoint.js';
import { describeStorage } from '../../helpers/storage.js';
import { startCloud, startS3Pair } from './harness.js';
import type { CloudHarness, S3Pair } from './harness.js';

const TUS = { 'tus-resumable': '1.0.0' };
/** One second: the upload expires while the test waits; the sweep (every minute at least) comes later. */
const EXPIRY = 1;

/** Jane creates an upload on `on`; on `asked`, HEAD answers 410 once it expires, PATCH too, and the sweep removes it. */
async function expiresBeforeTheSweep(on: CloudHarness, asked: CloudHarness): Promise<void> {
  const janeOn = (await on.server.login('jane')).client;
  const janeAsked = (await asked.server.login('jane')).client;
  await on.jane.createDirectory('/exp');
  const metadata = `path ${Buffer.from('/exp/late.bin').toString('base64')}`;
  const created = await janeOn.requestRaw('POST', '/api/cloud/uploads/', { headers: { ...TUS, 'upload-length': '10', 'upload-metadata': metadata } });
  await created.body.dump();
  expect(created.statusCode).toBe(201);
  expect(Date.parse(created.headers['upload-expires'] as string)).toBeGreaterThan(Date.now() - 60_000);
  const location = created.headers.location as string;
  const head = (): Promise<number> =>
    janeAsked.requestRaw('HEAD', location, { headers: TUS }).then(
      async (answer) => {
        await answer.body.dump();
        return answer.statusCode;
      },
      (error: { status: number }) => error.status,
    );
  // Past Upload-Expires (whole seconds, so up to one more), HEAD must say 410.
  const deadline = Date.now() + 30_000;
  let status = await head();
  while (status !== 410 && Date.now() < deadline) {
    expect(status).toBe(200);
    await new Promise((done) => setTimeout(done, 100));
    status = await head();
  }
  expect(status).toBe(410);
  await expect(
    janeAsked.requestRaw('PATCH', location, { headers: { ...TUS, 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' }, rawBody: Buffer.from('0123456789') }),
  ).rejects.toMatchObject({ status: 410, code: 'FUSION_ERR_CLOUD_UPLOAD' });
  expect(await asked.jane.list('/exp')).toEqual([]);
  expect(await asked.server.server.findApi(FusionCloudAPI)!.expireUploads()).toBe(1);
  expect(await head()).toBe(404);
}

describeStorage('cloud tus: an expired upload answers 410 (local driver)', (getStorage) => {
  let cloud: CloudHarness;

  beforeAll(async () => {
    cloud = await startCloud({ storage: getStorage(), cloud: { upload_expiry: EXPIRY } });
  }, 60_000);
  afterAll(async () => {
    await cloud?.close();
  });

  it('HEAD and PATCH answer 410 once Upload-Expires is past; the sweep removes it', async () => {
    await expiresBeforeTheSweep(cloud, cloud);
  }, 60_000);
});

describeS3('cloud tus on S3: an expired upload answers 410', (endpointOf) => {
  let pair: S3Pair | undefined;

  beforeAll(async () => {
    pair = await startS3Pair(endpointOf(), `fusion-tus-exp-${randomBytes(5).toString('hex')}`, {}, { upload_expiry: EXPIRY });
  }, 90_000);
  afterAll(async () => {
    await pair?.close();
  });

  it('made on A, HEAD and PATCH on B answer 410 once Upload-Expires is past; the sweep removes it', async () => {
    await expiresBeforeTheSweep(pair!.a, pair!.b);
  }, 90_000);
});
