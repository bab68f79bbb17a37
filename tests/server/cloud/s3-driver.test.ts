/** The S3 driver alone against radosgw: the multipart copy (UploadPartCopy) S3 needs above 5 GiB, exercised with a lowered threshold. */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { DeleteBucketCommand, HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { S3CloudDriver } from '../../../src/server/cloud/s3-driver.js';
import type { CloudS3Config } from '../../../src/server/cloud/config.js';
import { S3_TEST_KEYS, describeS3 } from '../../helpers/s3-endpoint.js';

const MiB = 1024 * 1024;

async function bytesOf(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('S3CloudDriver options', () => {
  const config: CloudS3Config = { endpoint: 'http://127.0.0.1:1', bucket: 'unused', region: 'us-east-1', accessKey: 'a', secretKey: 'b', forcePathStyle: true, prefix: '' };
  it('refuses a copy limit above CopyObject’s 5 GiB, and bad part sizes, naming the option', () => {
    expect(() => new S3CloudDriver(config, { copyObjectLimit: 5 * 1024 * MiB + 1 })).toThrow(/copyObjectLimit/);
    expect(() => new S3CloudDriver(config, { copyPartSize: 0 })).toThrow(/copyPartSize/);
  });
});

describeS3('S3CloudDriver on radosgw', (endpointOf) => {
  let driver: S3CloudDriver;
  const bucket = `fusion-copy-${randomBytes(5).toString('hex')}`;

  beforeAll(async () => {
    const config: CloudS3Config = { endpoint: endpointOf(), bucket, region: 'us-east-1', accessKey: S3_TEST_KEYS.access_key, secretKey: S3_TEST_KEYS.secret_key, forcePathStyle: true, prefix: 'tree' };
    // Objects over 1 MiB take the multipart copy, in parts of 5 MiB (S3's smallest but the last).
    driver = new S3CloudDriver(config, { copyObjectLimit: MiB, copyPartSize: 5 * MiB });
    await driver.start();
  }, 30_000);
  afterAll(async () => {
    if (!driver) return;
    for (const path of ['big.bin', 'small.txt']) await driver.removeFile(path);
    await driver.client.send(new DeleteBucketCommand({ Bucket: bucket }));
    await driver.close();
  });

  async function etagOf(path: string): Promise<string> {
    return (await driver.client.send(new HeadObjectCommand({ Bucket: bucket, Key: driver.keyOf(path) }))).ETag ?? '';
  }

  it('commits an object over the limit by a multipart copy (3 parts), whole, and leaves no staging object', async () => {
    const body = randomBytes(11 * MiB + 3);
    const staged = await driver.stage('big.bin', Readable.from([body]));
    await staged.commit();
    expect(await etagOf('big.bin')).toMatch(/-3"$/); // the ETag of an object completed from 3 parts
    expect((await bytesOf(await driver.read('big.bin'))).equals(body)).toBe(true);
    expect((await bytesOf(await driver.read('big.bin', { start: 5 * MiB - 2, end: 5 * MiB + 1 }))).equals(body.subarray(5 * MiB - 2, 5 * MiB + 2))).toBe(true);
    const listed = await driver.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'tree/.fusion-staging/' }));
    expect(listed.Contents ?? []).toEqual([]);
  }, 60_000);

  it('commits an object under the limit with one CopyObject', async () => {
    const staged = await driver.stage('small.txt', Readable.from([Buffer.from('small')]));
    await staged.commit();
    expect(await etagOf('small.txt')).not.toMatch(/-\d+"$/);
    expect((await bytesOf(await driver.read('small.txt'))).toString()).toBe('small');
  });

  it('copying a missing source fails and creates nothing at the target', async () => {
    await expect(driver.copyObject(driver.keyOf('missing.bin'), driver.keyOf('target.bin'))).rejects.toThrow();
    await expect(driver.read('target.bin')).rejects.toMatchObject({ code: 'FUSION_ERR_CLOUD_NOT_FOUND' });
  });
});
