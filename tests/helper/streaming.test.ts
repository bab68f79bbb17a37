import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileChunks, streamToFile, textChunks } from '../../src/helper/streaming.js';
import { expectDocumentedExample } from './docs-example.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fusion-streaming-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Number of this process's file descriptors open on `path` (Linux /proc). */
async function openFdsOn(path: string): Promise<number> {
  let count = 0;
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
    if (target === path) count += 1;
  }
  return count;
}

async function collect(chunks: AsyncIterable<Buffer>): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const chunk of chunks) out.push(chunk);
  return out;
}

describe('fileChunks', () => {
  it('reads the whole file in chunks of chunkSize, the last one shorter', async () => {
    const data = randomBytes(10_000);
    const path = join(dir, 'data.bin');
    await writeFile(path, data);
    const chunks = await collect(fileChunks(path, { chunkSize: 4096 }));
    expect(chunks.map((c) => c.length)).toEqual([4096, 4096, 1808]);
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
  });

  it('reads an inclusive byte range, like HTTP Range', async () => {
    const path = join(dir, 'abc.txt');
    await writeFile(path, 'abcdefghijklmnopqrstuvwxyz');
    const chunks = await collect(fileChunks(path, { start: 2, end: 9, chunkSize: 3 }));
    expect(chunks.map((c) => c.toString())).toEqual(['cde', 'fgh', 'ij']);
  });

  it('stops at the end of the file when end lies beyond it, and yields nothing past it', async () => {
    const path = join(dir, 'short.txt');
    await writeFile(path, 'hello');
    expect(Buffer.concat(await collect(fileChunks(path, { start: 3, end: 100 }))).toString()).toBe('lo');
    expect(await collect(fileChunks(path, { start: 50 }))).toEqual([]);
    expect(await collect(fileChunks(path, { start: 2, end: 1 }))).toEqual([]);
  });

  it('rejects a missing file and bad options', async () => {
    await expect(collect(fileChunks(join(dir, 'missing')))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(collect(fileChunks(join(dir, 'x'), { chunkSize: 0 }))).rejects.toThrow('chunkSize must be');
    await expect(collect(fileChunks(join(dir, 'x'), { start: -1 }))).rejects.toThrow('start must be');
  });

  it('closes the file when the consumer stops early', async () => {
    const path = join(dir, 'big.bin');
    await writeFile(path, randomBytes(100_000));
    for await (const chunk of fileChunks(path, { chunkSize: 1000 })) {
      expect(chunk.length).toBe(1000);
      break;
    }
    expect(await openFdsOn(path)).toBe(0);
    const gen = fileChunks(path, { chunkSize: 1000 });
    await gen.next();
    expect(await openFdsOn(path)).toBe(1);
    await gen.return(undefined);
    expect(await openFdsOn(path)).toBe(0);
  });
});

describe('textChunks', () => {
  it('cuts text into UTF-8 chunks that never split a character', () => {
    const text = 'aé€😀'.repeat(50);
    const chunks = [...textChunks(text, 5)];
    expect(chunks.every((c) => c.length <= 5 && c.length > 0)).toBe(true);
    expect(chunks.map((c) => c.toString('utf8')).join('')).toBe(text);
    for (const chunk of chunks) expect(Buffer.from(chunk.toString('utf8'), 'utf8').equals(chunk)).toBe(true);
    expect(Buffer.concat(chunks).toString('utf8')).toBe(text);
  });

  it('yields nothing for empty text and refuses a chunk size below 4', () => {
    expect([...textChunks('')]).toEqual([]);
    expect(() => [...textChunks('abc', 3)]).toThrow('at least 4');
  });
});

describe('streamToFile', () => {
  it('writes an async iterable, reports progress and returns the byte count', async () => {
    const target = join(dir, 'out.bin');
    const parts = [randomBytes(1000), randomBytes(2000), randomBytes(5)];
    async function* source(): AsyncGenerator<Uint8Array> {
      for (const part of parts) yield part;
    }
    const progress: number[] = [];
    const written = await streamToFile(source(), target, { onProgress: (n) => progress.push(n) });
    expect(written).toBe(3005);
    expect(progress).toEqual([1000, 3000, 3005]);
    expect((await readFile(target)).equals(Buffer.concat(parts))).toBe(true);
    expect(await readdir(dir)).toEqual(['out.bin']);
  });

  it('copies a Readable (a file stream) and replaces an existing file', async () => {
    const from = join(dir, 'from.bin');
    const data = randomBytes(300_000);
    await writeFile(from, data);
    const target = join(dir, 'to.bin');
    await writeFile(target, 'old content');
    expect(await streamToFile(createReadStream(from), target)).toBe(data.length);
    expect((await readFile(target)).equals(data)).toBe(true);
    expect((await readdir(dir)).sort()).toEqual(['from.bin', 'to.bin']);
  });

  it('streams textChunks to a file', async () => {
    const target = join(dir, 'text.txt');
    await streamToFile(Readable.from(textChunks('héllo wörld\n'.repeat(1000), 100)), target);
    expect(await readFile(target, 'utf8')).toBe('héllo wörld\n'.repeat(1000));
  });

  it('leaves no partial file and keeps the old one when the source fails', async () => {
    const target = join(dir, 'keep.txt');
    await writeFile(target, 'previous');
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('partial data');
      throw new Error('source broke');
    }
    await expect(streamToFile(failing(), target)).rejects.toThrow('source broke');
    expect(await readFile(target, 'utf8')).toBe('previous');
    expect(await readdir(dir)).toEqual(['keep.txt']);
  });

  it('stops on abort, removes the temporary file and creates nothing', async () => {
    const target = join(dir, 'aborted.bin');
    const controller = new AbortController();
    let sent = 0;
    const endless = new Readable({
      read() {
        sent += 1;
        if (sent === 3) controller.abort();
        this.push(randomBytes(1024));
      },
    });
    await expect(streamToFile(endless, target, { signal: controller.signal })).rejects.toMatchObject({
      name: 'AbortError',
    });
    expect(endless.destroyed).toBe(true);
    expect(await readdir(dir)).toEqual([]);
  });

  it('rejects at once with an already aborted signal', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(streamToFile(Readable.from([Buffer.from('x')]), join(dir, 'x'), { signal: controller.signal })).rejects.toMatchObject({
      name: 'AbortError',
    });
    expect(await readdir(dir)).toEqual([]);
  });

  it('rejects when the directory does not exist', async () => {
    await expect(streamToFile(Readable.from([Buffer.from('x')]), join(dir, 'no', 'such', 'file'))).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });
});

describe('docs example (docs/helpers.md, streaming)', () => {
  it('runs', async () => {
    const sourcePath = join(dir, 'evidence.bin');
    await writeFile(sourcePath, randomBytes(5000));
    const targetPath = join(dir, 'header.bin');
    const reportPath = join(dir, 'report.txt');
    const report = 'ligne 42: accès refusé\n'.repeat(10_000);
    const progress: number[] = [];
    // --- example starts
    // Copy the first KiB of a file; readers of targetPath never see a partial file.
    const written = await streamToFile(fileChunks(sourcePath, { start: 0, end: 1023 }), targetPath, {
      onProgress: (bytes) => progress.push(bytes),
    });
    // Write a long text as UTF-8 chunks, giving up after 10 s.
    await streamToFile(textChunks(report), reportPath, { signal: AbortSignal.timeout(10_000) });
    // --- example ends
    expect(written).toBe(1024);
    expect(progress.at(-1)).toBe(1024);
    expect((await readFile(targetPath)).equals((await readFile(sourcePath)).subarray(0, 1024))).toBe(true);
    expect(await readFile(reportPath, 'utf8')).toBe(report);
  });

  it('is the one docs/helpers.md shows', () => {
    expectDocumentedExample('tests/helper/streaming.test.ts', 'streaming');
  });
});
