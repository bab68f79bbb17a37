import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { isFusionError } from '../../src/helper/errors.js';
import { createZip, extractZip, zipStream } from '../../src/helper/zip.js';
import type { ExtractZipOptions } from '../../src/helper/zip.js';
import { deflatedEntry, deflatedZeros, storedEntry, writeZip } from '../fixtures/zip/zip-writer.js';
import type { RawZipEntry } from '../fixtures/zip/zip-writer.js';
import { expectDocumentedExample } from './docs-example.js';

let base: string;
let work: string;
let counter = 0;
beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'fusion-zip-'));
});
afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});
beforeEach(async () => {
  counter += 1;
  work = join(base, `t${counter}`);
  await mkdir(work);
});

/** Every path under `dir` mapped to its content ('<dir>' for directories). */
async function readTree(dir: string): Promise<Record<string, string>> {
  const tree: Record<string, string> = {};
  const walk = async (current: string): Promise<void> => {
    for (const dirent of await readdir(current, { withFileTypes: true })) {
      const path = join(current, dirent.name);
      const key = relative(dir, path);
      if (dirent.isDirectory()) {
        tree[key] = '<dir>';
        await walk(path);
      } else if (dirent.isSymbolicLink()) {
        tree[key] = '<symlink>';
      } else {
        tree[key] = (await readFile(path)).toString('base64');
      }
    }
  };
  await walk(dir);
  return tree;
}

/** A source tree with nested and empty directories, binary and non-ASCII names. */
async function makeSource(): Promise<string> {
  const root = join(work, 'source');
  await mkdir(join(root, 'docs', 'deep', 'deeper'), { recursive: true });
  await mkdir(join(root, 'empty'));
  await writeFile(join(root, 'readme.txt'), 'hello\n');
  await writeFile(join(root, 'docs', 'résumé ü.md'), '# ünïcödé\n');
  await writeFile(join(root, 'docs', 'deep', 'deeper', 'blob.bin'), randomBytes(1024 * 1024));
  await writeFile(join(root, 'docs', 'deep', 'zeros.bin'), Buffer.alloc(200_000));
  await writeFile(join(root, '.hidden'), 'dot file');
  return root;
}

describe('createZip and zipStream', () => {
  it('round-trips a tree through createZip and extractZip', async () => {
    const root = await makeSource();
    const archive = join(work, 'out.zip');
    const size = await createZip(archive, root);
    expect(size).toBe((await stat(archive)).size);
    const result = await extractZip(archive, join(work, 'copy'));
    expect(await readTree(join(work, 'copy'))).toEqual(await readTree(root));
    expect(result.bytes).toBe(6 + Buffer.byteLength('# ünïcödé\n') + 1024 * 1024 + 200_000 + 8);
    expect((await readdir(work)).sort()).toEqual(['copy', 'out.zip', 'source']);
  });

  it('writes to a Writable and zips only the selected files and directories', async () => {
    const root = await makeSource();
    const archive = join(work, 'part.zip');
    const size = await createZip(createWriteStream(archive), root, { files: ['readme.txt'], directories: ['docs/deep'] });
    expect(size).toBe((await stat(archive)).size);
    await extractZip(archive, join(work, 'copy'));
    expect(Object.keys(await readTree(join(work, 'copy'))).sort()).toEqual([
      'docs',
      'docs/deep',
      'docs/deep/deeper',
      'docs/deep/deeper/blob.bin',
      'docs/deep/zeros.bin',
      'readme.txt',
    ]);
  });

  it('refuses paths outside the root before producing anything', async () => {
    const root = await makeSource();
    await writeFile(join(work, 'secret.txt'), 'secret');
    const archive = join(work, 'bad.zip');
    await expect(createZip(archive, root, { files: ['../secret.txt'] })).rejects.toMatchObject({
      code: 'FUSION_ERR_ZIP_REFUSED',
      message: expect.stringContaining("cannot zip '../secret.txt': it is outside the root directory"),
    });
    await expect(zipStream(root, { directories: ['..'] })).rejects.toMatchObject({ code: 'FUSION_ERR_ZIP_REFUSED' });
    await expect(zipStream(root, { files: [join(work, 'secret.txt')] })).rejects.toMatchObject({ code: 'FUSION_ERR_ZIP_REFUSED' });
    await expect(stat(archive)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses a symbolic link leading outside the root, and stores one inside as a plain file', async () => {
    const root = await makeSource();
    await symlink('readme.txt', join(root, 'link-inside'));
    await symlink('no-such-file', join(root, 'dangling'));
    await expect(zipStream(root)).resolves.toBeInstanceOf(Readable);
    const copy = join(work, 'copy');
    await createZip(join(work, 'ok.zip'), root);
    await extractZip(join(work, 'ok.zip'), copy);
    expect(await readFile(join(copy, 'link-inside'), 'utf8')).toBe('hello\n');
    await expect(stat(join(copy, 'dangling'))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(zipStream(root, { files: ['missing.txt'] })).rejects.toMatchObject({
      code: 'FUSION_ERR_ZIP_REFUSED',
      message: "cannot zip 'missing.txt': it does not exist (or is a dangling link)",
    });

    await writeFile(join(work, 'secret.txt'), 'secret');
    await symlink(join(work, 'secret.txt'), join(root, 'docs', 'escape'));
    await expect(zipStream(root)).rejects.toMatchObject({
      code: 'FUSION_ERR_ZIP_REFUSED',
      message: expect.stringContaining("cannot zip 'docs/escape': it is a symbolic link to"),
    });
  });

  it('fails the stream, rather than ending an incomplete zip, when a file vanishes', async () => {
    const root = await makeSource();
    const stream = await zipStream(root);
    await rm(join(root, 'readme.txt'));
    const drain = async (): Promise<void> => {
      for await (const _chunk of stream);
    };
    await expect(drain()).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('serves a zip as an HTTP response body', async () => {
    const root = await makeSource();
    const server = createServer((_request, response) => {
      zipStream(root).then(
        (stream) => {
          response.writeHead(200, { 'content-type': 'application/zip' });
          stream.pipe(response);
        },
        () => response.writeHead(400).end(),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const response = await fetch(`http://127.0.0.1:${port}/`);
      expect(response.headers.get('content-type')).toBe('application/zip');
      const body = Buffer.from(await response.arrayBuffer());
      await extractZip(body, join(work, 'copy'));
      expect(await readTree(join(work, 'copy'))).toEqual(await readTree(root));
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('extractZip refuses hostile archives and leaves nothing behind', () => {
  let bomb: { data: Buffer; crc32: number };
  beforeAll(async () => {
    bomb = await deflatedZeros(1024 ** 3);
  }, 60_000);

  /** Writes the archive, extracts it into work/a/b/out, and checks it is refused with no trace. */
  async function expectRefused(entries: RawZipEntry[], message: string, options: ExtractZipOptions = {}): Promise<void> {
    const archive = join(work, 'hostile.zip');
    await writeFile(archive, writeZip(entries));
    await mkdir(join(work, 'a', 'b'), { recursive: true });
    const before = await readTree(work);
    const error = await extractZip(archive, join(work, 'a', 'b', 'out'), options).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'FUSION_ERR_ZIP_REFUSED', status: 400 });
    expect((error as Error).message).toContain(message);
    expect(await readTree(work)).toEqual(before);
  }

  it("refuses an entry climbing out with '..'", async () => {
    await expectRefused([storedEntry('fine.txt', 'ok'), storedEntry('../../x', 'evil')], "refused zip entry '../../x': it contains '..'");
    await expectRefused([storedEntry('dir/../../x', 'evil')], "refused zip entry 'dir/../../x'");
  });

  it('refuses absolute paths, drive letters and backslashes', async () => {
    const absolute = join(tmpdir(), `fusion-zip-escape-${randomBytes(4).toString('hex')}`);
    await expectRefused([storedEntry(absolute, 'evil')], `refused zip entry '${absolute}': it is an absolute path`);
    await expect(stat(absolute)).rejects.toMatchObject({ code: 'ENOENT' });
    await expectRefused([storedEntry('C:/Windows/x', 'evil')], "'C:/Windows/x': it starts with a Windows drive letter");
    await expectRefused([storedEntry('c:x', 'evil')], 'Windows drive letter');
    await expectRefused([storedEntry('..\\..\\x', 'evil')], "'..\\..\\x': it contains a backslash");
  });

  it('refuses symbolic links and special files', async () => {
    await expectRefused([storedEntry('link', '/etc/passwd', 0o120777)], "refused zip entry 'link': it is a symbolic link");
    await expectRefused([storedEntry('fifo', '', 0o010644)], "'fifo': it is a special file");
  });

  it('refuses more than maxEntries entries', async () => {
    const many = Array.from({ length: 10_001 }, (_, i) => storedEntry(`f${i}`, ''));
    await expectRefused(many, 'it has 10001 entries, more than maxEntries (10000)');
    await expectRefused(many.slice(0, 11), 'more than maxEntries (10)', { maxEntries: 10 });
  });

  it('refuses a zip bomb (1 GiB of zeros in about 1 MB) by its ratio', async () => {
    expect(bomb.data.length).toBeLessThan(2 * 1024 * 1024);
    const entry: RawZipEntry = { name: 'bomb.bin', data: bomb.data, method: 8, crc32: bomb.crc32, uncompressedSize: 1024 ** 3, unixMode: 0o100644 };
    await expectRefused([storedEntry('before.txt', 'x'), entry], "refused zip entry 'bomb.bin': its compression ratio");
  });

  it('refuses a bomb whose header lies about its size, counting the inflated bytes', async () => {
    const entry: RawZipEntry = { name: 'liar.bin', data: bomb.data, method: 8, crc32: bomb.crc32, uncompressedSize: 2 * 1024 * 1024, unixMode: 0o100644 };
    await expectRefused([entry], "refused zip entry 'liar.bin': it inflates to more than the 2097152 bytes its header declares");
  });

  it('refuses an entry that inflates to fewer bytes than declared', async () => {
    const entry = { ...deflatedEntry('short.txt', 'abc'), uncompressedSize: 10 };
    await expectRefused([entry], "'short.txt': it inflates to 3 bytes, not the 10 its header declares");
  });

  it('refuses more than maxTotalBytes and naming the entry that crosses it', async () => {
    const entries = ['a', 'b', 'c'].map((name) => storedEntry(`${name}.txt`, 'x'.repeat(600)));
    await expectRefused(entries, "refused zip entry 'b.txt': the archive declares more than maxTotalBytes (1000 bytes)", { maxTotalBytes: 1000 });
  });

  it('refuses duplicates, conflicting entries, and garbage', async () => {
    await expectRefused([storedEntry('same.txt', '1'), storedEntry('same.txt', '2')], "'same.txt': it is a duplicate or conflicts");
    await expectRefused([storedEntry('a', '1'), storedEntry('a/b', '2')], "'a/b': it is a duplicate or conflicts");
    const archive = join(work, 'garbage.zip');
    await writeFile(archive, randomBytes(1000));
    const before = await readdir(work);
    await expect(extractZip(archive, join(work, 'out'))).rejects.toMatchObject({
      code: 'FUSION_ERR_ZIP_REFUSED',
      message: expect.stringContaining('it is not a valid zip file'),
    });
    expect(await readdir(work)).toEqual(before);
  });

  it('accepts a small, highly compressible file below ratioMinBytes', async () => {
    const archive = join(work, 'small.zip');
    await writeFile(archive, writeZip([deflatedEntry('zeros.bin', Buffer.alloc(500_000))]));
    await expect(extractZip(archive, join(work, 'out'))).resolves.toEqual({ entries: 1, bytes: 500_000 });
    expect((await readFile(join(work, 'out', 'zeros.bin'))).equals(Buffer.alloc(500_000))).toBe(true);
  });
});

describe('extractZip target directory', () => {
  it('creates missing parents, or removes them when it fails', async () => {
    const good = writeZip([storedEntry('dir/file.txt', 'content')]);
    await extractZip(good, join(work, 'new', 'parents', 'out'));
    expect(await readFile(join(work, 'new', 'parents', 'out', 'dir', 'file.txt'), 'utf8')).toBe('content');
    const bad = writeZip([storedEntry('file.txt', 'content'), storedEntry('../x', 'evil')]);
    await expect(extractZip(bad, join(work, 'other', 'parents', 'out'))).rejects.toMatchObject({ code: 'FUSION_ERR_ZIP_REFUSED' });
    expect((await readdir(work)).sort()).toEqual(['new']);
  });

  it('extracts into an existing empty directory and refuses a non-empty one', async () => {
    const zip = writeZip([storedEntry('file.txt', 'new')]);
    await mkdir(join(work, 'empty'));
    await extractZip(zip, join(work, 'empty'));
    expect(await readTree(join(work, 'empty'))).toEqual({ 'file.txt': Buffer.from('new').toString('base64') });
    await expect(extractZip(zip, join(work, 'empty'))).rejects.toMatchObject({
      code: 'FUSION_ERR_ZIP_REFUSED',
      message: expect.stringContaining('it exists and is not an empty directory'),
    });
    expect((await readdir(work)).sort()).toEqual(['empty']);
  });

  it('stops on abort and removes what it extracted', async () => {
    const zip = writeZip(Array.from({ length: 50 }, (_, i) => deflatedEntry(`f${i}.bin`, randomBytes(10_000))));
    const controller = new AbortController();
    const run = extractZip(zip, join(work, 'out'), { signal: controller.signal });
    controller.abort();
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(await readdir(work)).toEqual([]);
  });
});

describe('docs example (docs/helpers.md, zip)', () => {
  it('runs', async () => {
    const caseDir = await makeSource();
    await mkdir(join(caseDir, 'evidence'));
    await writeFile(join(caseDir, 'evidence', 'disk.img'), randomBytes(2000));
    await writeFile(join(caseDir, 'notes.txt'), 'notes');
    const archivePath = join(work, 'case.zip');
    const uploadPath = join(work, 'upload.zip');
    await writeFile(uploadPath, writeZip([storedEntry('../../etc/cron.d/x', 'evil')]));
    const refusals: string[] = [];
    const reply = { send: (body: Readable) => body };
    // --- example starts
    // Stream part of a case directory as a download (fastify sends a Readable as the body).
    reply.send(await zipStream(caseDir, { directories: ['evidence'], files: ['notes.txt'] }));
    // Or write the archive to a file (atomically).
    await createZip(archivePath, caseDir);
    // Extract an untrusted upload; a refused archive leaves nothing behind.
    try {
      await extractZip(uploadPath, join(caseDir, 'upload'), { maxTotalBytes: 100 * 1024 ** 2 });
    } catch (error) {
      if (isFusionError(error) && error.code === 'FUSION_ERR_ZIP_REFUSED') refusals.push(error.message);
      else throw error;
    }
    // --- example ends
    expect(refusals).toEqual(["refused zip entry '../../etc/cron.d/x': it contains '..' (it would escape the target directory)"]);
    await expect(stat(join(caseDir, 'upload'))).rejects.toMatchObject({ code: 'ENOENT' });
    await extractZip(archivePath, join(work, 'copy'));
    expect(await readTree(join(work, 'copy'))).toEqual(await readTree(caseDir));
  });

  it('is the one docs/helpers.md shows', () => {
    expectDocumentedExample('tests/helper/zip.test.ts', 'zip');
  });
});
