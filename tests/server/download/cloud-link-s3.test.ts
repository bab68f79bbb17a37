/** Links to cloud files on the S3 driver: made on instance A, served by instance B (one PostgreSQL schema, one bucket). */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FusionDownloadAPIClient } from '../../../src/client/api/download.js';
import { FusionDownloadAPI } from '../../../src/server/download/impl.js';
import { describeS3 } from '../../helpers/s3-endpoint.js';
import { startS3Pair } from '../cloud/harness.js';
import type { CloudHarness, S3Pair } from '../cloud/harness.js';

describeS3('cloud links on S3 (radosgw)', (endpointOf) => {
  describe('cloud links on S3 (radosgw), two instances on one PostgreSQL schema', () => {
    let pair: S3Pair | undefined;
    let a: CloudHarness;
    let b: CloudHarness;
    const bucket = `fusion-link-${randomBytes(5).toString('hex')}`;
    const body = randomBytes(9 * 1024 * 1024 + 17); // more than one multipart part

    beforeAll(async () => {
      pair = await startS3Pair(endpointOf(), bucket, { download: {} });
      ({ a, b } = pair);
      await a.jane.createDirectory('/shared');
      await a.jane.upload(body, '/shared/evidence.bin');
    }, 90_000);
    afterAll(async () => {
      await pair?.close();
    });

    it('a link Jane makes on A is served by B, once, from the bucket', async () => {
      const link = await a.jane.link('/shared/evidence.bin');
      const onB = b.server.clients.anonymous.client;
      const first = await onB.requestRaw('GET', link.url);
      expect(first.statusCode).toBe(200);
      expect(Buffer.from(await first.body.arrayBuffer()).equals(body)).toBe(true);
      await expect(onB.requestRaw('GET', link.url)).rejects.toMatchObject({ status: 404, code: 'FUSION_ERR_DOWNLOAD_NOT_FOUND' });
      await expect(a.server.clients.anonymous.client.requestRaw('GET', link.url)).rejects.toMatchObject({ status: 404, code: 'FUSION_ERR_DOWNLOAD_NOT_FOUND' });
    }, 60_000);

    it('B serves a Range of a link made on A; the download client fetches a whole link from B', async () => {
      const link = await a.jane.link('/shared/evidence.bin');
      const part = await b.server.clients.anonymous.client.requestRaw('GET', link.url, { headers: { range: 'bytes=100-199' } });
      expect(part.statusCode).toBe(206);
      expect(Buffer.from(await part.body.arrayBuffer()).equals(body.subarray(100, 200))).toBe(true);
      const key = await a.jane.link('/shared/evidence.bin');
      const result = await new FusionDownloadAPIClient({ client: b.server.clients.anonymous.client }).download(key, `${a.root}-evidence.bin`);
      expect(result.bytes).toBe(body.length);
    }, 60_000);

    it('a user without READ_FILE is refused on B (403 in the envelope) and no key is created', async () => {
      const before = await b.server.server.findApi(FusionDownloadAPI)!.pendingCount();
      await expect(b.eve.link('/shared/evidence.bin')).rejects.toMatchObject({ status: 403, code: 'FUSION_ERR_FORBIDDEN' });
      expect(await a.server.server.findApi(FusionDownloadAPI)!.pendingCount()).toBe(before);
    });
  });
});
