/** The tus file store's write path: synced writes, and the running sha256 trusted only while it covers the whole file. */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Upload } from '@tus/server';
import { FileSink } from '../../../src/server/cloud/file-sink.js';
import { HashingFileStore } from '../../../src/server/cloud/tus-file-store.js';

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** `bytes` as a stream of small chunks, as a socket delivers them. */
function chunks(bytes: Buffer, size = 7_000): Readable {
  const parts: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) parts.push(bytes.subarray(at, at + size));
  return Readable.from(parts);
}

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'fusion-tus-store-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('HashingFileStore', () => {
  const body = randomBytes(300_000);

  async function created(store: HashingFileStore): Promise<string> {
    const id = randomBytes(16).toString('hex');
    await store.create(new Upload({ id, size: body.length, offset: 0 }));
    return id;
  }

  it('carries the hash across PATCHes: the digest is the whole file, and the file holds every byte', async () => {
    const store = new HashingFileStore({ directory });
    const id = await created(store);
    expect(await store.write(chunks(body.subarray(0, 100_000)), id, 0)).toBe(100_000);
    expect(await store.write(chunks(body.subarray(100_000)), id, 100_000)).toBe(body.length);
    expect((await readFile(store.fileOf(id))).equals(body)).toBe(true);
    expect(store.takeDigest(id, body.length)).toBe(sha256(body));
    expect(store.takeDigest(id, body.length)).toBeNull(); // taken once
  });

  it('drops the hash when a PATCH starts where the hash does not end (another process wrote, or a restart)', async () => {
    const first = new HashingFileStore({ directory });
    const id = await created(first);
    await first.write(chunks(body.subarray(0, 100_000)), id, 0);
    const restarted = new HashingFileStore({ directory });
    await restarted.write(chunks(body.subarray(100_000)), id, 100_000);
    expect(restarted.takeDigest(id, body.length)).toBeNull();
    // The first store's hash stops at 100 000 bytes: it is not taken for the 300 000-byte file.
    expect(first.takeDigest(id, body.length)).toBeNull();
    expect((await readFile(first.fileOf(id))).equals(body)).toBe(true);
  });

  it('drops the hash when a write fails midway; refuses ids that are not ours; a missing file is a write error', async () => {
    const store = new HashingFileStore({ directory });
    const id = await created(store);
    const failing = new Readable({
      read() {
        this.push(body.subarray(0, 50_000));
        this.destroy(new Error('socket cut'));
      },
    });
    await expect(store.write(failing, id, 0)).rejects.toMatchObject({ status_code: 500 });
    expect(store.takeDigest(id, 50_000)).toBeNull();
    expect(() => store.fileOf('../escape')).toThrow();
    // An upload whose file is gone answers tus' write error, as @tus/file-store does.
    await expect(store.write(chunks(body.subarray(0, 10)), randomBytes(16).toString('hex'), 0)).rejects.toMatchObject({ status_code: 500 });
  });
});

describe('FileSink', () => {
  it('writes from its start position, flushing behind the stream, and shows every chunk in order', async () => {
    const bytes = randomBytes(2_000_000);
    const file = join(directory, 'a.bin');
    const handle = await open(file, 'w');
    const seen = createHash('sha256');
    try {
      await handle.write(Buffer.from('head'));
      const sink = new FileSink(handle, { start: 4, syncEvery: 256 * 1024, onChunk: (chunk) => seen.update(chunk) });
      await new Promise<void>((done, fail) => chunks(bytes, 65_536).pipe(sink).on('finish', done).on('error', fail));
      expect(sink.bytes).toBe(bytes.length);
    } finally {
      await handle.close();
    }
    expect((await readFile(file)).equals(Buffer.concat([Buffer.from('head'), bytes]))).toBe(true);
    expect(seen.digest('hex')).toBe(sha256(bytes));
  });

  it('fails the stream when the file cannot be written', async () => {
    const handle = await open(join(directory, 'b.bin'), 'w');
    await handle.close(); // writes on a closed handle fail
    const sink = new FileSink(handle);
    await expect(new Promise((done, fail) => chunks(randomBytes(10_000)).pipe(sink).on('finish', done).on('error', fail))).rejects.toThrow();
  });
});
