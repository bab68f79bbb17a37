/**
 * On the S3 driver, a file overwritten by instance B between A's read of its row and of its bytes:
 * A's answer is one whole version with its own length and ETag (HEAD, then GET with If-Match).
 * The overwrite runs at that moment through a hook on A's real driver's `open`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Pool } from 'undici';
import { FusionCloudAPI } from '../../../src/server/cloud/impl.js';
import type { CloudDriver } from '../../../src/server/cloud/driver.js';
import { describeS3 } from '../../helpers/s3-endpoint.js';
import { startS3Pair } from './harness.js';
import type { S3Pair } from './harness.js';

const OLD = Buffer.from('the old content, much longer than the new one: '.repeat(50));
const NEW = Buffer.from('the new content');

describeS3('cloud reads of a file overwritten meanwhile on S3 (radosgw)', (endpointOf) => {
  describe('two instances, one bucket', () => {
    let pair: S3Pair | undefined;
    let pool: Pool;
    const bucket = `fusion-race-${randomBytes(5).toString('hex')}`;

    beforeAll(async () => {
      pair = await startS3Pair(endpointOf(), bucket);
      pool = new Pool(pair.a.server.baseUrl);
      await pair.a.jane.createDirectory('/race');
    }, 90_000);
    afterAll(async () => {
      await pool?.close();
      await pair?.close();
    });

    it('GET on A while B replaces the file: length, bytes and ETag of one version', async () => {
      const { a, b } = pair!;
      await a.jane.upload(OLD, '/race/f.txt');
      const driver: CloudDriver = a.server.server.findApi(FusionCloudAPI)!.driver;
      const original = driver.open;
      let replaced = 0;
      driver.open = async function (this: CloudDriver, path: string) {
        if (replaced++ === 0) await b.jane.upload(NEW, '/race/f.txt', { overwrite: true });
        return original.call(this, path);
      };
      try {
        const answer = await pool.request({ path: '/api/cloud/file/race/f.txt', method: 'GET', headers: { 'x-fusion-api-token': a.server.apiKey } });
        const bytes = Buffer.from(await answer.body.arrayBuffer());
        expect(replaced).toBe(1);
        expect(answer.statusCode).toBe(200);
        expect(answer.headers['content-length']).toBe(String(NEW.length));
        expect(bytes.equals(NEW)).toBe(true);
        expect(answer.headers.etag).toBe(`"${createHash('sha256').update(NEW).digest('hex')}"`);
      } finally {
        driver.open = original;
      }
    }, 60_000);
  });
});
