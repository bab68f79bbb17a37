/** Zip archives: stream a directory tree out as a zip; extract an untrusted zip safely. */
import { createWriteStream } from 'node:fs';
import { lstat, mkdir, mkdtemp, opendir, readdir, realpath, rename, rm, rmdir, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { PassThrough, Transform, pipeline as pipelineCallback } from 'node:stream';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ZipArchive } from 'archiver';
import yauzl from 'yauzl';
import type { Entry, ZipFile } from 'yauzl';
import { FusionError, isFusionError } from './errors.js';
import { streamToFile } from './streaming.js';

/** Which parts of `root` go into a zip; paths are relative to root. Neither given: all of root. */
export interface ZipSelection {
  /** Files to add (relative to root). */
  files?: string[];
  /** Directories to add with everything below them (relative to root; '.' is root itself). */
  directories?: string[];
}

/** Limits of extractZip: an archive beyond any of them is refused with FUSION_ERR_ZIP_REFUSED. */
export interface ExtractZipOptions {
  /** Most entries (files and directories) in the archive (default 10,000). */
  maxEntries?: number;
  /** Most uncompressed bytes in all, counted while inflating (default 1 GiB). */
  maxTotalBytes?: number;
  /** Highest uncompressed/compressed ratio of an entry past ratioMinBytes (default 100). */
  maxRatio?: number;
  /** Size below which an entry's ratio is not checked (default 1 MiB). */
  ratioMinBytes?: number;
  /** Aborting it stops the extraction and removes what was extracted. */
  signal?: AbortSignal;
}

/** What extractZip wrote. */
export interface ExtractZipResult {
  /** Number of entries extracted (files and directories). */
  entries: number;
  /** Uncompressed bytes written. */
  bytes: number;
}

const DEFAULTS = { maxEntries: 10_000, maxTotalBytes: 1024 ** 3, maxRatio: 100, ratioMinBytes: 1024 ** 2 };

function refused(message: string, cause?: unknown): FusionError {
  return new FusionError('FUSION_ERR_ZIP_REFUSED', message, cause === undefined ? undefined : { cause });
}

/** `path` relative to `root` with '/' separators, or null when it lies outside root. */
function inside(root: string, path: string): string | null {
  const rel = relative(root, path);
  if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return null;
  return rel.split(sep).join('/');
}

type ZipItem = { path: string; name: string; directory: boolean };

/** Lists what goes into the zip: real paths (symlinks resolved inside root) and entry names. */
async function collect(root: string, selection: ZipSelection): Promise<ZipItem[]> {
  const realRoot = await realpath(root);
  const items = new Map<string, ZipItem>();
  const visited = new Set<string>();

  const resolveInRoot = async (logical: string, asked: string): Promise<{ real: string; name: string }> => {
    const name = inside(realRoot, logical);
    if (name === null) throw refused(`cannot zip '${asked}': it is outside the root directory '${root}'`);
    const real = await realpath(logical).catch((error: { code?: unknown }) => {
      throw error.code === 'ENOENT' ? refused(`cannot zip '${asked}': it does not exist (or is a dangling link)`, error) : error;
    });
    if (inside(realRoot, real) === null) {
      throw refused(`cannot zip '${asked}': it is a symbolic link to '${real}', outside the root directory '${root}'`);
    }
    return { real, name };
  };

  const walk = async (real: string, name: string): Promise<void> => {
    if (visited.has(real)) return; // a symlink loop, or a directory asked twice
    visited.add(real);
    if (name !== '') items.set(`${name}/`, { path: real, name: `${name}/`, directory: true });
    const directory = await opendir(real);
    for await (const dirent of directory) {
      const childName = name === '' ? dirent.name : `${name}/${dirent.name}`;
      if (!dirent.isFile() && !dirent.isDirectory() && !dirent.isSymbolicLink()) continue; // sockets, FIFOs, devices
      const child = await resolveInRoot(join(realRoot, childName), childName).catch((error: unknown) => {
        if (dirent.isSymbolicLink() && (error as { cause?: { code?: unknown } }).cause?.code === 'ENOENT') return null;
        throw error;
      });
      if (child === null) continue; // a dangling link has nothing to store
      const info = await stat(child.real);
      if (info.isDirectory()) await walk(child.real, childName);
      else if (info.isFile()) items.set(childName, { path: child.real, name: childName, directory: false });
    }
  };

  const files = selection.files ?? [];
  const directories = selection.directories ?? (files.length === 0 ? ['.'] : []);
  for (const file of files) {
    const { real, name } = await resolveInRoot(resolve(realRoot, file), file);
    if (!(await stat(real)).isFile()) throw refused(`cannot zip '${file}': it is not a regular file`);
    items.set(name, { path: real, name, directory: false });
  }
  for (const asked of directories) {
    const { real, name } = await resolveInRoot(resolve(realRoot, asked), asked);
    if (!(await stat(real)).isDirectory()) throw refused(`cannot zip '${asked}': it is not a directory`);
    await walk(real, name);
  }
  return [...items.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Returns a Readable zip of `selection` under `root` (default: all of root), built while it is
 * read (no temporary file), e.g. for an HTTP response. Entry names are relative to root; a path
 * or symbolic link leading outside root is refused (FUSION_ERR_ZIP_REFUSED) before any byte is
 * produced. Symbolic links inside root are stored as what they point to; dangling ones are skipped.
 */
export async function zipStream(root: string, selection: ZipSelection = {}): Promise<Readable> {
  const items = await collect(root, selection);
  const archive = new ZipArchive({ zlib: { level: 6 } });
  // A file that vanished or cannot be read must not end as a silently incomplete zip.
  archive.on('warning', (error) => archive.destroy(error));
  for (const item of items) {
    if (item.directory) archive.append(Buffer.alloc(0), { name: item.name, type: 'directory' });
    else archive.file(item.path, { name: item.name });
  }
  archive.finalize().catch(() => undefined); // failures reach the reader as stream errors
  // archiver's streams come from readable-stream: hand out a core Readable (errors and destroy propagate).
  const output = new PassThrough();
  pipelineCallback(archive, output, () => undefined);
  return output;
}

/**
 * Writes a zip of `selection` under `root` to `output` (a file path, written atomically, or a
 * Writable, which is ended) and returns the zip's size in bytes. See zipStream for the rules.
 */
export async function createZip(
  output: string | Writable,
  root: string,
  selection: ZipSelection = {},
  options: { signal?: AbortSignal } = {},
): Promise<number> {
  const archive = await zipStream(root, selection);
  const signalOption = options.signal === undefined ? {} : { signal: options.signal };
  if (typeof output === 'string') return streamToFile(archive, output, signalOption);
  let size = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      size += chunk.length;
      callback(null, chunk);
    },
  });
  await pipeline(archive, counter, output, signalOption);
  return size;
}

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

/** Refuses an entry name that could land outside the target directory. */
function checkName(name: string): void {
  const rule =
    name === '' || name === '/' ? 'has an empty name'
    : name.includes('\0') ? 'has a NUL character in its name'
    : name.includes('\\') ? 'contains a backslash (a Windows path separator could escape the directory)'
    : /^[a-zA-Z]:/.test(name) ? 'starts with a Windows drive letter (absolute path)'
    : name.startsWith('/') ? 'is an absolute path'
    : name.split('/').includes('..') ? "contains '..' (it would escape the target directory)"
    : null;
  if (rule !== null) throw refused(`refused zip entry '${name}': it ${rule}`);
}

/** Refuses symbolic links, special files, encrypted or unknown compression; true for a directory. */
function checkKind(entry: Entry, name: string): boolean {
  const mode = (entry.externalFileAttributes >>> 16) & 0xffff;
  const kind = mode & S_IFMT;
  if (kind === S_IFLNK) throw refused(`refused zip entry '${name}': it is a symbolic link (links are never extracted)`);
  if (kind !== 0 && kind !== S_IFREG && kind !== S_IFDIR) {
    throw refused(`refused zip entry '${name}': it is a special file (device, FIFO or socket)`);
  }
  if (entry.isEncrypted()) throw refused(`refused zip entry '${name}': it is encrypted`);
  if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
    throw refused(`refused zip entry '${name}': compression method ${entry.compressionMethod} is not supported (only store and deflate)`);
  }
  return name.endsWith('/') || kind === S_IFDIR;
}

type Limits = Required<Omit<ExtractZipOptions, 'signal'>>;

/** A pass-through that counts inflated bytes and stops at the first limit crossed. */
function limiter(entry: Entry, name: string, limits: Limits, totals: { bytes: number }): Transform {
  let bytes = 0;
  const fail = (rule: string): FusionError => refused(`refused zip entry '${name}': ${rule}`);
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      totals.bytes += chunk.length;
      if (bytes > entry.uncompressedSize) {
        return callback(fail(`it inflates to more than the ${entry.uncompressedSize} bytes its header declares`));
      }
      if (totals.bytes > limits.maxTotalBytes) {
        return callback(fail(`the archive inflates to more than maxTotalBytes (${limits.maxTotalBytes} bytes)`));
      }
      if (bytes > limits.ratioMinBytes && bytes / Math.max(entry.compressedSize, 1) > limits.maxRatio) {
        return callback(fail(`its compression ratio exceeds maxRatio (${limits.maxRatio}:1): a zip bomb?`));
      }
      callback(null, chunk);
    },
    flush(callback) {
      if (bytes !== entry.uncompressedSize) {
        return callback(fail(`it inflates to ${bytes} bytes, not the ${entry.uncompressedSize} its header declares`));
      }
      callback();
    },
  });
}

/** Checks an entry's declared sizes against the limits, before inflating anything. */
function checkDeclared(entry: Entry, name: string, limits: Limits, declaredTotal: number): void {
  const ratio = entry.uncompressedSize / Math.max(entry.compressedSize, 1);
  if (entry.uncompressedSize > limits.ratioMinBytes && ratio > limits.maxRatio) {
    throw refused(`refused zip entry '${name}': its compression ratio ${Math.round(ratio)}:1 exceeds maxRatio (${limits.maxRatio}:1): a zip bomb?`);
  }
  if (declaredTotal > limits.maxTotalBytes) {
    throw refused(`refused zip entry '${name}': the archive declares more than maxTotalBytes (${limits.maxTotalBytes} bytes) uncompressed`);
  }
}

/** Extracts every entry of `zip` into `staging`; throws at the first refused entry. */
async function extractEntries(zip: ZipFile, staging: string, limits: Limits, signal: AbortSignal | undefined): Promise<ExtractZipResult> {
  if (zip.entryCount > limits.maxEntries) {
    throw refused(`refused zip archive: it has ${zip.entryCount} entries, more than maxEntries (${limits.maxEntries})`);
  }
  const totals = { bytes: 0 };
  let declaredTotal = 0;
  let entries = 0;
  for await (const entry of zip.eachEntry()) {
    signal?.throwIfAborted();
    entries += 1;
    const name = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, true);
    checkName(name);
    const directory = checkKind(entry, name);
    const destination = join(staging, name);
    if (inside(staging, destination) === null) throw refused(`refused zip entry '${name}': it escapes the target directory`);
    declaredTotal += entry.uncompressedSize;
    checkDeclared(entry, name, limits, declaredTotal);
    try {
      if (directory) {
        await mkdir(destination, { recursive: true });
        continue;
      }
      await mkdir(dirname(destination), { recursive: true });
      const source = await zip.openReadStreamPromise(entry);
      const sink = createWriteStream(destination, { flags: 'wx' });
      await pipeline(source, limiter(entry, name, limits, totals), sink, signal === undefined ? {} : { signal });
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === 'EEXIST' || code === 'ENOTDIR' || code === 'EISDIR') {
        throw refused(`refused zip entry '${name}': it is a duplicate or conflicts with another entry`, error);
      }
      throw error;
    }
  }
  return { entries, bytes: totals.bytes };
}

/** True when `path` does not exist or is an empty directory; refuses anything else. */
async function checkTarget(target: string): Promise<boolean> {
  const info = await lstat(target).catch((error: { code?: unknown }) => {
    if (error.code === 'ENOENT') return null;
    throw error;
  });
  if (info === null) return false;
  if (!info.isDirectory() || (await readdir(target)).length > 0) {
    throw refused(`cannot extract into '${target}': it exists and is not an empty directory; choose a new directory`);
  }
  return true;
}

/**
 * Extracts an untrusted zip (file path or Buffer) into `directory`, which must not exist or be
 * empty. Refuses (FUSION_ERR_ZIP_REFUSED, naming the entry and the rule) entries that escape the
 * directory ('..', absolute paths, drive letters, backslashes), symbolic links and special files,
 * more than maxEntries entries, more than maxTotalBytes inflated (counted while inflating) and
 * ratios above maxRatio. Entries go to a temporary directory beside the target, renamed into
 * place on success; on any failure everything created is removed.
 */
export async function extractZip(archive: string | Buffer, directory: string, options: ExtractZipOptions = {}): Promise<ExtractZipResult> {
  const limits: Limits = {
    maxEntries: options.maxEntries ?? DEFAULTS.maxEntries,
    maxTotalBytes: options.maxTotalBytes ?? DEFAULTS.maxTotalBytes,
    maxRatio: options.maxRatio ?? DEFAULTS.maxRatio,
    ratioMinBytes: options.ratioMinBytes ?? DEFAULTS.ratioMinBytes,
  };
  for (const [key, value] of Object.entries(limits)) {
    if (typeof value !== 'number' || !(value >= 0)) throw new RangeError(`${key} must be a number >= 0, got ${String(value)}`);
  }
  options.signal?.throwIfAborted();
  const target = resolve(directory);
  const targetExists = await checkTarget(target);
  const createdParent = await mkdir(dirname(target), { recursive: true });
  const staging = await mkdtemp(join(dirname(target), `.${basename(target)}.extract-`));
  let zip: ZipFile | undefined;
  try {
    const yauzlOptions = { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: false };
    zip = await (typeof archive === 'string' ? yauzl.openPromise(archive, yauzlOptions) : yauzl.fromBufferPromise(archive, yauzlOptions)).catch(
      (error: Error) => {
        throw refused(`refused zip archive: it is not a valid zip file (${error.message})`, error);
      },
    );
    const result = await extractEntries(zip, staging, limits, options.signal);
    await rename(staging, target).catch(async (error: unknown) => {
      if (!targetExists) throw error;
      await rmdir(target); // renaming onto an empty directory fails on some platforms
      await rename(staging, target);
    });
    return result;
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    if (createdParent !== undefined) await rm(createdParent, { recursive: true, force: true });
    const known = isFusionError(error) || (error as { name?: unknown }).name === 'AbortError' || (error as { syscall?: unknown }).syscall !== undefined;
    throw known ? error : refused(`refused zip archive: it is corrupt (${(error as Error).message})`, error);
  } finally {
    zip?.close();
  }
}
