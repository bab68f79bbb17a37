/** The cloud API on the S3 driver against a real radosgw (see tests/helpers/s3-endpoint.ts). */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { freshStorage } from '../../helpers/storage.js';
import type { KnexStorage } from '../../../src/server/storage/knex-storage.js';
import { S3_TEST_KEYS, describeS3, listKeys } from '../../helpers/s3-endpoint.js';
import { DOCUMENTED_OUTCOME, startCloud } from './harness.js';
import { janeSharesWithMike } from './scenario.example.js';
import type { CloudHarness } from './harness.js';

describeS3('cloud on S3 (radosgw)', (endpointOf) => {
  describe('cloud on S3 (radosgw), PostgreSQL', () => {
    let storage: KnexStorage | undefined;
    let cloud: CloudHarness;
    let work: string;
    const bucket = `fusion-test-${randomBytes(5).toString('hex')}`;

    beforeAll(async () => {
      const endpoint = endpointOf();
      storage = await freshStorage('postgres');
      cloud = await startCloud({ storage, cloud: { driver: 's3', max_file_bytes: 12 * 1024 * 1024, s3: { endpoint, bucket, ...S3_TEST_KEYS } } });
      work = await mkdtemp(join(tmpdir(), 'fusion-cloud-s3-'));
    }, 60_000);
    afterAll(async () => {
      await cloud?.close();
      await storage?.close();
      if (work) await rm(work, { recursive: true, force: true });
    });

    const keys = (prefix = ''): Promise<string[]> => listKeys(endpointOf(), bucket, prefix);

    it('Jane, Mike and an anonymous caller, as on the local driver', async () => {
      await cloud.jane.createDirectory('/janes_dir');
      const local = join(work, 'report.txt');
      await writeFile(local, 'the report');
      await cloud.jane.upload(local, '/janes_dir/report.txt');
      expect(await keys('janes_dir/')).toEqual(['janes_dir/report.txt']);
      await cloud.jane.assignRole('/janes_dir', { user: 'mike' }, 'viewer');
      await cloud.mike.download('/janes_dir/report.txt', join(work, 'copy'));
      expect(await readFile(join(work, 'copy'), 'utf8')).toBe('the report');
      await expect(cloud.mike.upload(local, '/janes_dir/report.txt', { overwrite: true })).rejects.toMatchObject({ status: 403 });
      await expect(cloud.mike.delete('/janes_dir/report.txt')).rejects.toMatchObject({ status: 403 });
      await expect(cloud.anonymous.list('/janes_dir')).rejects.toMatchObject({ status: 401 });
    });

    it('runs the docs/cloud.md scenario on S3 with the same outcome', async () => {
      await cloud.service.deleteDirectory('/janes_dir', { recursive: true });
      expect(await janeSharesWithMike(cloud.server.baseUrl)).toEqual(DOCUMENTED_OUTCOME);
    });

    it('stores a multipart-sized file whole (sha256 checked), serves ranges, replaces it with overwrite', async () => {
      await cloud.service.createDirectory('/big');
      const body = randomBytes(10 * 1024 * 1024);
      const local = join(work, 'big.bin');
      await writeFile(local, body);
      const entry = await cloud.service.upload(local, '/big/file.bin');
      expect(entry).toMatchObject({ size: body.length, sha256: createHash('sha256').update(body).digest('hex') });
      await cloud.service.download('/big/file.bin', join(work, 'back.bin'));
      expect((await readFile(join(work, 'back.bin'))).equals(body)).toBe(true);
      const part = await cloud.server.clients.service.client.requestRaw('GET', '/api/cloud/file/big/file.bin', { headers: { range: 'bytes=100-199' } });
      expect(part.statusCode).toBe(206);
      expect(Buffer.from(await part.body.arrayBuffer()).equals(body.subarray(100, 200))).toBe(true);
      await cloud.service.upload(Readable.from([Buffer.from('small now')]), '/big/file.bin', { overwrite: true });
      await cloud.service.download('/big/file.bin', join(work, 'small'));
      expect(await readFile(join(work, 'small'), 'utf8')).toBe('small now');
      expect(await keys('.fusion-staging/')).toEqual([]);
    }, 60_000);

    it('deletes files and whole directories from the bucket', async () => {
      await cloud.service.createDirectory('/gone');
      await cloud.service.createDirectory('/gone/sub');
      await cloud.service.upload(Readable.from([Buffer.from('1')]), '/gone/a');
      await cloud.service.upload(Readable.from([Buffer.from('2')]), '/gone/sub/b');
      await cloud.service.delete('/gone/a');
      expect(await keys('gone/')).toEqual(['gone/sub/b']);
      await cloud.service.deleteDirectory('/gone', { recursive: true });
      expect(await keys('gone/')).toEqual([]);
    });

    it('zips from the bucket', async () => {
      await cloud.service.createDirectory('/z');
      await cloud.service.upload(Readable.from([Buffer.from('zipped')]), '/z/f.txt');
      const result = await cloud.service.downloadZip('/z', join(work, 'z.zip'));
      expect(result.bytes).toBeGreaterThan(20);
      expect((await readFile(join(work, 'z.zip'))).subarray(0, 2).toString()).toBe('PK');
    });

    it('an upload refused while streaming (over max_file_bytes) leaves no object, staging or final', async () => {
      await cloud.service.createDirectory('/refused');
      const stream = Readable.from(
        (function* () {
          for (let i = 0; i < 13; i++) yield Buffer.alloc(1024 * 1024, i);
        })(),
      );
      await expect(cloud.service.upload(stream, '/refused/big.bin')).rejects.toMatchObject({ status: 413, code: 'FUSION_ERR_CLOUD_TOO_LARGE' });
      expect(await keys('.fusion-staging/')).toEqual([]);
      expect(await keys('refused/')).toEqual([]);
      expect(await cloud.service.list('/refused')).toEqual([]);
    }, 60_000);
  });
});
