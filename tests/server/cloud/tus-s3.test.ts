/** Tus on the S3 driver: partial uploads live in the bucket, so an upload begun on A is resumed on B. */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request } from 'undici';
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { FusionCloudAPI } from '../../../src/server/cloud/impl.js';
import { UPLOAD_EXPIRY_TASK } from '../../../src/server/cloud/upload-expiry.js';
import { countUploadedParts, describeS3, listKeys, testS3Client } from '../../helpers/s3-endpoint.js';
import { startS3Pair } from './harness.js';
import type { CloudHarness, S3Pair } from './harness.js';

const TUS = { 'tus-resumable': '1.0.0' };

describeS3('cloud tus on S3 (radosgw)', (endpointOf) => {
  describe('two instances on one PostgreSQL schema and one bucket', () => {
    let pair: S3Pair | undefined;
    let a: CloudHarness;
    let b: CloudHarness;
    let work: string;
    const bucket = `fusion-tus-${randomBytes(5).toString('hex')}`;
    const keys = (prefix: string): Promise<string[]> => listKeys(endpointOf(), bucket, prefix);

    beforeAll(async () => {
      pair = await startS3Pair(endpointOf(), bucket);
      ({ a, b } = pair);
      work = await mkdtemp(join(tmpdir(), 'fusion-tus-s3-'));
      await a.jane.createDirectory('/up');
    }, 90_000);
    afterAll(async () => {
      await pair?.close();
      if (work) await rm(work, { recursive: true, force: true });
    });

    it('Jane sends part of an upload to A; B reports its offset and takes the rest; the file is whole and nothing is left of the upload', async () => {
      const body = randomBytes(13 * 1024 * 1024 + 5); // a complete 8 MiB part, then an incomplete one
      const first = 9 * 1024 * 1024;
      const janeOnA = (await a.server.login('jane')).client;
      const metadata = `path ${Buffer.from('/up/big.bin').toString('base64')}`;
      const created = await janeOnA.requestRaw('POST', '/api/cloud/uploads/', { headers: { ...TUS, 'upload-length': String(body.length), 'upload-metadata': metadata } });
      await created.body.dump();
      const location = created.headers.location as string;
      expect(location).toMatch(/^\/api\/cloud\/uploads\/[0-9a-f]{32}$/);
      const patched = await janeOnA.requestRaw('PATCH', location, {
        headers: { ...TUS, 'upload-offset': '0', 'content-type': 'application/offset+octet-stream', 'content-length': String(first) },
        rawBody: body.subarray(0, first),
      });
      await patched.body.dump();
      expect(patched.headers['upload-offset']).toBe(String(first));
      expect((await keys('.fusion-uploads/')).length).toBeGreaterThan(0);

      const janeOnB = (await b.server.login('jane')).client;
      const head = await janeOnB.requestRaw('HEAD', location, { headers: TUS });
      await head.body.dump();
      expect(head.headers['upload-offset']).toBe(String(first));

      const local = join(work, 'big.bin');
      await writeFile(local, body);
      const entry = await b.jane.resumeUpload(location, local, body.length);
      expect(entry).toMatchObject({ path: 'up/big.bin', size: body.length, sha256: createHash('sha256').update(body).digest('hex'), creator: 'jane' });
      await a.jane.download('/up/big.bin', join(work, 'back.bin'));
      expect((await readFile(join(work, 'back.bin'))).equals(body)).toBe(true);
      expect(await keys('.fusion-uploads/')).toEqual([]);
      expect(await keys('up/')).toEqual(['up/big.bin']);
    }, 120_000);

    it('a PATCH cut mid-body on A keeps the parts stored in the bucket; B reports the offset and the client finishes there', async () => {
      const body = randomBytes(12 * 1024 * 1024);
      const janeOnA = (await a.server.login('jane')).client;
      const metadata = `path ${Buffer.from('/up/cut.bin').toString('base64')}`;
      const created = await janeOnA.requestRaw('POST', '/api/cloud/uploads/', { headers: { ...TUS, 'upload-length': String(body.length), 'upload-metadata': metadata } });
      await created.body.dump();
      const location = created.headers.location as string;
      const controller = new AbortController();
      const sent = body.subarray(0, 9 * 1024 * 1024);
      const cut = request(`${a.server.baseUrl}${location}`, {
        method: 'PATCH',
        headers: { ...TUS, cookie: `${a.server.config.auth!.cookie.name}=${janeOnA.sessionCookie!}`, 'upload-offset': '0', 'content-type': 'application/offset+octet-stream', 'content-length': String(body.length) },
        body: Readable.from(
          (async function* () {
            yield sent;
            // Cut once the server has stored a whole part of what it received (bounded wait).
            const deadline = Date.now() + 60_000;
            while ((await countUploadedParts(endpointOf(), bucket, '.fusion-uploads/')) === 0 && Date.now() < deadline) await new Promise((done) => setTimeout(done, 100));
            controller.abort();
            await new Promise(() => undefined);
          })(),
        ),
        signal: controller.signal,
      });
      await expect(cut).rejects.toThrow();
      const janeOnB = (await b.server.login('jane')).client;
      let offset = 0;
      const deadline = Date.now() + 30_000;
      while (offset === 0 && Date.now() < deadline) {
        const head = await janeOnB.requestRaw('HEAD', location, { headers: TUS });
        await head.body.dump();
        offset = Number(head.headers['upload-offset']);
        if (offset === 0) await new Promise((done) => setTimeout(done, 100));
      }
      expect(offset).toBeGreaterThan(0);
      expect(offset).toBeLessThanOrEqual(sent.length);
      const local = join(work, 'cut.bin');
      await writeFile(local, body);
      const entry = await b.jane.resumeUpload(location, local, body.length);
      expect(entry).toMatchObject({ size: body.length, sha256: createHash('sha256').update(body).digest('hex') });
    }, 120_000);

    it('another user cannot touch the upload on the other instance (403 in the envelope)', async () => {
      const janeOnA = (await a.server.login('jane')).client;
      const metadata = `path ${Buffer.from('/up/private.bin').toString('base64')}`;
      const created = await janeOnA.requestRaw('POST', '/api/cloud/uploads/', { headers: { ...TUS, 'upload-length': '10', 'upload-metadata': metadata } });
      await created.body.dump();
      const location = created.headers.location as string;
      const mikeOnB = (await b.server.login('mike')).client;
      await expect(mikeOnB.requestRaw('HEAD', location, { headers: TUS })).rejects.toMatchObject({ status: 403 });
      const done = await janeOnA.requestRaw('PATCH', location, { headers: { ...TUS, 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' }, rawBody: Buffer.from('0123456789') });
      expect(await done.body.json()).toMatchObject({ data: { path: 'up/private.bin', size: 10 } });
    }, 60_000);

    it('abandoned uploads expire: a sweep past cloud.upload_expiry aborts the multipart upload and deletes its objects, nothing else (singleton task)', async () => {
      expect(a.server.server.tasks.find((t) => t.name === UPLOAD_EXPIRY_TASK)).toMatchObject({ singleton: true });
      const janeOnA = (await a.server.login('jane')).client;
      const metadata = `path ${Buffer.from('/up/abandoned.bin').toString('base64')}`;
      const created = await janeOnA.requestRaw('POST', '/api/cloud/uploads/', { headers: { ...TUS, 'upload-length': String(20 * 1024 * 1024), 'upload-metadata': metadata } });
      await created.body.dump();
      const location = created.headers.location as string;
      const sent = randomBytes(9 * 1024 * 1024);
      const patched = await janeOnA.requestRaw('PATCH', location, {
        headers: { ...TUS, 'upload-offset': '0', 'content-type': 'application/offset+octet-stream', 'content-length': String(sent.length) },
        rawBody: sent,
      });
      await patched.body.dump();
      expect(patched.headers['upload-expires']).toBeDefined();
      const multipart = async (): Promise<string[]> => {
        const client = testS3Client(endpointOf());
        try {
          return ((await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: '.fusion-uploads/' }))).Uploads ?? []).map((u) => u.Key!);
        } finally {
          client.destroy();
        }
      };
      expect(await multipart()).toHaveLength(1);
      const filesBefore = await keys('up/');
      const apiOnB = b.server.server.findApi(FusionCloudAPI)!;
      expect(await apiOnB.expireUploads()).toBe(0);
      expect((await keys('.fusion-uploads/')).length).toBeGreaterThan(0);
      expect(await apiOnB.expireUploads(new Date(Date.now() + 25 * 3600 * 1000))).toBe(1);
      expect(await multipart()).toEqual([]);
      expect(await keys('.fusion-uploads/')).toEqual([]);
      expect(await keys('up/')).toEqual(filesBefore);
      await expect(janeOnA.requestRaw('HEAD', location, { headers: TUS })).rejects.toMatchObject({ status: 404 });
    }, 120_000);
  });
});
