/**
 * Hostile input on the S3 driver (real radosgw), two instances on one PostgreSQL schema and one
 * bucket: writers of one file on both instances never tear it, a socket cut mid-body leaves the
 * previous object and no staging object or multipart upload, and bad paths touch nothing.
 */
import { createHash, randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { Pool } from 'undici';
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { describeS3, listKeys, testS3Client } from '../../helpers/s3-endpoint.js';
import { startS3Pair } from './harness.js';
import type { CloudHarness, S3Pair } from './harness.js';

describeS3('cloud hostile input on S3 (radosgw), two instances', (endpointOf) => {
  let pair: S3Pair | undefined;
  let a: CloudHarness;
  let b: CloudHarness;
  const bucket = `fusion-hostile-${randomBytes(5).toString('hex')}`;
  const keys = (prefix: string): Promise<string[]> => listKeys(endpointOf(), bucket, prefix);
  const multipart = async (prefix: string): Promise<string[]> => {
    const client = testS3Client(endpointOf());
    try {
      return ((await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }))).Uploads ?? []).map((u) => u.Key!);
    } finally {
      client.destroy();
    }
  };

  beforeAll(async () => {
    pair = await startS3Pair(endpointOf(), bucket);
    ({ a, b } = pair);
  }, 90_000);
  afterAll(async () => {
    await pair?.close();
  });

  it('writers of one file on both instances never tear it: the object is one writer\'s whole body, and its row says so', async () => {
    await a.service.createDirectory('/race');
    const bodies = [randomBytes(6 * 1024 * 1024), randomBytes(6 * 1024 * 1024), randomBytes(6 * 1024 * 1024), randomBytes(6 * 1024 * 1024)];
    const results = await Promise.allSettled(
      bodies.map((body, i) => (i % 2 === 0 ? a : b).service.upload(Readable.from(chunks(body)), '/race/f', { overwrite: true, length: body.length })),
    );
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
    const digests = bodies.map((body) => createHash('sha256').update(body).digest('hex'));
    const served = await b.server.clients.service.client.requestRaw('GET', '/api/cloud/file/race/f');
    const stored = Buffer.from(await served.body.arrayBuffer());
    const digest = createHash('sha256').update(stored).digest('hex');
    expect(digests).toContain(digest);
    expect(await a.service.list('/race')).toEqual([expect.objectContaining({ size: stored.length, sha256: digest })]);
    expect(await keys('.fusion-staging/')).toEqual([]);
  }, 120_000);

  it('a socket cut mid-body leaves the previous object, no staging object and no multipart upload', async () => {
    await a.service.createDirectory('/cut');
    await a.service.upload(Readable.from([Buffer.from('previous content')]), '/cut/f');
    const url = new URL(a.server.baseUrl);
    const socket = connect(Number(url.port), url.hostname);
    await new Promise<void>((done, fail) => socket.once('connect', done).once('error', fail));
    socket.write(
      `PUT /api/cloud/file/cut/f?overwrite=true HTTP/1.1\r\nHost: ${url.host}\r\nX-Fusion-API-Token: ${a.server.apiKey}\r\n` +
        `Content-Type: application/octet-stream\r\nContent-Length: ${20 * 1024 * 1024}\r\n\r\n`,
    );
    // More than one part (lib-storage's parts are 5 MiB at least): a multipart upload is begun.
    for (let i = 0; i < 12; i++) socket.write(Buffer.alloc(1024 * 1024, i));
    await waitFor(async () => (await multipart('.fusion-staging/')).length > 0 || (await keys('.fusion-staging/')).length > 0, 'the staging upload to begin');
    socket.destroy();
    await waitFor(async () => (await multipart('.fusion-staging/')).length === 0 && (await keys('.fusion-staging/')).length === 0, 'the staging upload to be aborted');
    const served = await b.server.clients.service.client.requestRaw('GET', '/api/cloud/file/cut/f');
    expect(await served.body.text()).toBe('previous content');
    expect(await b.service.list('/cut')).toEqual([expect.objectContaining({ size: 16 })]);
    expect(await keys('cut/')).toEqual(['cut/f']);
  }, 120_000);

  it.each([
    ['dot-dot', '../outside.txt'],
    ['encoded dot-dot', '%2e%2e/outside.txt'],
    ['encoded slash', '..%2Foutside.txt'],
    ['backslash', '..%5Coutside.txt'],
    ['NUL', 'a%00b'],
    ['over-long segment', 'x'.repeat(256)],
  ])('%s: 400 FUSION_ERR_CLOUD_PATH for writes and reads, nothing in the bucket', async (_name, path) => {
    const before = await keys('');
    const pool = new Pool(b.server.baseUrl);
    try {
      for (const [method, body] of [['PUT', 'payload'], ['GET', undefined], ['DELETE', undefined]] as const) {
        const answer = await pool.request({
          path: `/api/cloud/file/${path}`,
          method,
          headers: { 'x-fusion-api-token': b.server.apiKey, ...(body !== undefined ? { 'content-type': 'application/octet-stream' } : {}) },
          ...(body !== undefined ? { body } : {}),
        });
        expect([method, answer.statusCode, ((await answer.body.json()) as { code?: string }).code]).toEqual([method, 400, 'FUSION_ERR_CLOUD_PATH']);
      }
    } finally {
      await pool.close();
    }
    expect(await keys('')).toEqual(before);
  });
});

function* chunks(buffer: Buffer): Generator<Buffer> {
  for (let i = 0; i < buffer.length; i += 256 * 1024) yield buffer.subarray(i, i + 256 * 1024);
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 50));
  }
}
