/**
 * Extracts a PGlite dump (the gzip'd ustar archive `dumpDataDir('gzip')` writes: directories and
 * regular files) into a directory on disk. A new `pglite://DIR` database then starts on that
 * directory as an existing one does: measured, about half the resident memory and CPU of
 * PGlite's `loadDataDir`, which unpacks the archive inside the WebAssembly file system and keeps
 * the memory (see docs/performance.md).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';

const BLOCK = 512;
const inflate = promisify(gunzip);

/** The NUL-terminated text of a header field. */
function field(header: Buffer, start: number, length: number): string {
  const bytes = header.subarray(start, start + length);
  const end = bytes.indexOf(0);
  return bytes.subarray(0, end === -1 ? bytes.length : end).toString('utf8');
}

/** Writes the entries of the gzip'd tar `dump` under `dir` (created when missing); refuses entries leaving `dir`. */
export async function extractPgliteDump(dump: Blob, dir: string): Promise<void> {
  const tar = await inflate(Buffer.from(await dump.arrayBuffer()));
  const root = resolve(dir);
  await mkdir(root, { recursive: true });
  let offset = 0;
  while (offset + BLOCK <= tar.length) {
    const header = tar.subarray(offset, offset + BLOCK);
    if (header.every((byte) => byte === 0)) break; // the end-of-archive blocks
    const ustar = field(header, 257, 6) === 'ustar';
    const prefix = ustar ? field(header, 345, 155) : '';
    const name = (prefix === '' ? '' : `${prefix}/`) + field(header, 0, 100);
    const size = Number.parseInt(field(header, 124, 12).trim() || '0', 8);
    const type = header[156] === 0 ? '0' : String.fromCharCode(header[156]!);
    if (!Number.isSafeInteger(size) || size < 0 || offset + BLOCK + size > tar.length) throw new Error(`PGlite dump: entry ${JSON.stringify(name)} has a bad size`);
    const target = resolve(root, `./${name.replace(/^\/+/, '')}`);
    if (target !== root && !target.startsWith(root + sep)) throw new Error(`PGlite dump: entry ${JSON.stringify(name)} leaves the data directory`);
    offset += BLOCK;
    if (type === '5') {
      await mkdir(target, { recursive: true });
    } else if (type === '0') {
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, tar.subarray(offset, offset + size));
    } else {
      throw new Error(`PGlite dump: entry ${JSON.stringify(name)} has type ${JSON.stringify(type)}; only files and directories are expected`);
    }
    offset += Math.ceil(size / BLOCK) * BLOCK;
  }
}
