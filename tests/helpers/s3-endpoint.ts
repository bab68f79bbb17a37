/**
 * A real S3-compatible server for the cloud tests: Ceph's radosgw (../shared/tools/micro-ceph.sh,
 * copied to scripts/micro-ceph.sh). `.ci/run` starts one and exports FUSION_TEST_S3_ENDPOINT;
 * without it, outside CI, the suite starts one itself when radosgw is installed (about 15 s),
 * else it is skipped with the reason printed. Under CI=true a missing endpoint fails the suite.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ListMultipartUploadsCommand, ListObjectsV2Command, ListPartsCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { isCi } from './storage.js';

/** Access keys micro-ceph.sh creates. */
export const S3_TEST_KEYS = { access_key: 'fusion', secret_key: 'fusionsecret' } as const;

const SCRIPT = fileURLToPath(new URL('../../scripts/micro-ceph.sh', import.meta.url));

/** How the S3 suites get their endpoint. */
export type S3Availability = { kind: 'given'; endpoint: string } | { kind: 'start' } | { kind: 'missing'; reason: string };

function radosgwInstalled(): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => dir !== '' && existsSync(join(dir, 'radosgw')));
}

/** Decides, without starting anything, where the endpoint comes from. */
export function s3Availability(): S3Availability {
  const given = process.env.FUSION_TEST_S3_ENDPOINT;
  if (given) return { kind: 'given', endpoint: given };
  if (isCi()) return { kind: 'missing', reason: 'FUSION_TEST_S3_ENDPOINT is not set under CI: .ci/run must start micro-ceph (scripts/micro-ceph.sh) and export it' };
  if (!radosgwInstalled()) return { kind: 'missing', reason: 'radosgw is not installed and FUSION_TEST_S3_ENDPOINT is not set (run scripts/micro-ceph.sh start DIR PORT, then export it)' };
  return { kind: 'start' };
}

async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

function run(args: string[], timeoutMs: number): Promise<string> {
  return new Promise((done, fail) => {
    const child = spawn('bash', [SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
      fail(new Error(`micro-ceph.sh ${args[0]} did not finish within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) done(output);
      else fail(new Error(`micro-ceph.sh ${args[0]} failed (${code}):\n${output}`));
    });
  });
}

/** A micro-ceph this process started: its endpoint and how to stop it. */
export interface StartedS3 {
  endpoint: string;
  stop(): Promise<void>;
}

/** Starts micro-ceph in a temporary directory on a free port (bounded: 180 s). */
export async function startMicroCeph(): Promise<StartedS3> {
  const dir = await mkdtemp(join(tmpdir(), 'fusion-ceph-'));
  const port = await freePort();
  const stop = async (): Promise<void> => {
    await run(['stop', dir], 60_000).catch(() => undefined);
  };
  try {
    const output = await run(['start', dir, String(port)], 180_000);
    const endpoint = /S3_ENDPOINT=(\S+)/.exec(output)?.[1];
    if (!endpoint) throw new Error(`micro-ceph.sh printed no S3_ENDPOINT:\n${output}`);
    return { endpoint, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Registers `suite` in a describe block with an S3 endpoint: the given one, or a micro-ceph
 * started for the file. Without radosgw outside CI the block is skipped with the reason printed;
 * under CI a missing endpoint fails it. `endpoint()` is valid in the suite's hooks and tests.
 */
export function describeS3(title: string, suite: (endpoint: () => string) => void): void {
  const availability = s3Availability();
  if (availability.kind === 'missing' && !isCi()) {
    console.warn(`${title} skipped: ${availability.reason}`);
    describe.skip(title, () => it('needs radosgw', () => undefined));
    return;
  }
  let started: StartedS3 | null = null;
  let endpoint: string | null = availability.kind === 'given' ? availability.endpoint : null;
  describe(title, () => {
    beforeAll(async () => {
      if (availability.kind === 'missing') throw new Error(availability.reason);
      if (availability.kind === 'start') {
        started = await startMicroCeph();
        endpoint = started.endpoint;
      }
    }, 200_000);
    afterAll(async () => {
      await started?.stop();
    }, 90_000);
    suite(() => {
      if (endpoint === null) throw new Error('no S3 endpoint (see the first failure of this suite)');
      return endpoint;
    });
  });
}

/** An S3 client of the test keys for `endpoint` (destroy it after use). */
export function testS3Client(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: S3_TEST_KEYS.access_key, secretAccessKey: S3_TEST_KEYS.secret_key },
  });
}

/** The keys under `prefix` in `bucket` (first page, sorted), read with a client of its own. */
export async function listKeys(endpoint: string, bucket: string, prefix = ''): Promise<string[]> {
  const client = testS3Client(endpoint);
  try {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    return (page.Contents ?? []).map((item) => item.Key!).sort();
  } finally {
    client.destroy();
  }
}

/** Parts stored so far by the multipart uploads in progress under `prefix` in `bucket`. */
export async function countUploadedParts(endpoint: string, bucket: string, prefix: string): Promise<number> {
  const client = testS3Client(endpoint);
  try {
    const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
    let parts = 0;
    for (const upload of uploads.Uploads ?? []) {
      parts += (await client.send(new ListPartsCommand({ Bucket: bucket, Key: upload.Key!, UploadId: upload.UploadId! }))).Parts?.length ?? 0;
    }
    return parts;
  } finally {
    client.destroy();
  }
}
