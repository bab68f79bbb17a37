import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { extractPgliteDump } from '../../../src/server/storage/pglite-untar.js';

/** One ustar entry (header and padded data), as PGlite's dumpDataDir writes them. */
function entry(name: string, type: '0' | '2' | '5', data: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0, 100, 'utf8');
  header.write(data.length.toString(8).padStart(11, '0'), 124, 12, 'ascii');
  header.write(type, 156, 1, 'ascii');
  header.write('ustar', 257, 5, 'ascii');
  return Buffer.concat([header, data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}

const archive = (...entries: Buffer[]): Buffer => gzipSync(Buffer.concat([...entries, Buffer.alloc(1024)]));

describe('extractPgliteDump', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'fusion-pglite-untar-'));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('writes the files and directories of a dump, a zero tail as a hole of the same size', async () => {
    const wal = Buffer.concat([Buffer.from('record'), Buffer.alloc(8192 * 3)]);
    const dir = join(tmp, 'ok');
    await extractPgliteDump(archive(entry('/base', '5'), entry('/base/1/2', '0', Buffer.from('heap page')), entry('/PG_VERSION', '0', Buffer.from('17\n')), entry('/pg_wal/seg', '0', wal)), dir);
    expect((await readdir(dir)).sort()).toEqual(['PG_VERSION', 'base', 'pg_wal']);
    expect(await readFile(join(dir, 'base', '1', '2'), 'utf8')).toBe('heap page');
    expect(await readFile(join(dir, 'PG_VERSION'), 'utf8')).toBe('17\n');
    expect((await stat(join(dir, 'pg_wal', 'seg'))).size).toBe(wal.length);
    expect((await readFile(join(dir, 'pg_wal', 'seg'))).equals(wal)).toBe(true);
  });

  it('refuses an entry outside the directory, a link, a truncated or empty archive and what is not gzip', async () => {
    const dir = join(tmp, 'bad');
    await expect(extractPgliteDump(archive(entry('/../escaped', '0', Buffer.from('x'))), dir)).rejects.toThrow(/outside its directory/);
    await expect(readdir(tmp)).resolves.not.toContain('escaped');
    await expect(extractPgliteDump(archive(entry('/link', '2')), dir)).rejects.toThrow(/type "2"/);
    const whole = Buffer.concat([entry('/big', '0', Buffer.alloc(2048, 1))]);
    await expect(extractPgliteDump(gzipSync(whole.subarray(0, 1024)), dir)).rejects.toThrow(/truncated/);
    await expect(extractPgliteDump(archive(), dir)).rejects.toThrow(/empty/);
    await expect(extractPgliteDump(Buffer.from('not a tarball'), dir)).rejects.toThrow();
  });
});
