import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { extractPgliteDump } from '../../../src/server/storage/pglite-untar.js';

/** One ustar entry: a directory (content null) or a file; `type` overrides the type flag. */
function entry(name: string, content: string | null, type?: string): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0, 'utf8');
  header.write('0000644\0', 100, 'latin1');
  const data = Buffer.from(content ?? '', 'utf8');
  header.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  header.write(type ?? (content === null ? '5' : '0'), 156, 'latin1');
  header.write('ustar\0', 257, 'latin1');
  header.write('00', 263, 'latin1');
  const padded = Buffer.alloc(Math.ceil(data.length / 512) * 512);
  data.copy(padded);
  return Buffer.concat([header, padded]);
}

function dump(...entries: Buffer[]): Blob {
  return new Blob([gzipSync(Buffer.concat([...entries, Buffer.alloc(1024)]))]);
}

describe('extractPgliteDump', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'fusion-pglite-untar-'));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('writes the directories and files of the archive (absolute names land inside the directory)', async () => {
    const dir = join(tmp, 'ok');
    await extractPgliteDump(dump(entry('/base', null), entry('/base/1', null), entry('/base/1/112', 'x'.repeat(700)), entry('PG_VERSION', '17\n')), dir);
    expect(await readFile(join(dir, 'base', '1', '112'), 'utf8')).toBe('x'.repeat(700));
    expect(await readFile(join(dir, 'PG_VERSION'), 'utf8')).toBe('17\n');
  });

  it('refuses an entry that leaves the directory, and writes nothing outside it', async () => {
    const dir = join(tmp, 'escape');
    await expect(extractPgliteDump(dump(entry('../outside', 'no')), dir)).rejects.toThrow('PGlite dump: entry "../outside" leaves the data directory');
    expect(existsSync(join(tmp, 'outside'))).toBe(false);
  });

  it('refuses links and other entry types', async () => {
    await expect(extractPgliteDump(dump(entry('link', '', '2')), join(tmp, 'link'))).rejects.toThrow('has type "2"; only files and directories are expected');
  });

  it('refuses an archive whose entry claims more bytes than it holds', async () => {
    const truncated = entry('big', 'x'.repeat(10));
    truncated.write(`${(1_000_000).toString(8).padStart(11, '0')}\0`, 124, 'latin1');
    await expect(extractPgliteDump(new Blob([gzipSync(truncated)]), join(tmp, 'big'))).rejects.toThrow('PGlite dump: entry "big" has a bad size');
  });
});
