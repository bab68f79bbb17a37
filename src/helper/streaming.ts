/** Streaming helpers: read a file in chunks, cut text into chunks, write a stream atomically. */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** Default chunk size of fileChunks and textChunks: 64 KiB. */
export const DEFAULT_CHUNK_SIZE = 64 * 1024;

/** Options of fileChunks. */
export interface FileChunksOptions {
  /** First byte to read (default 0). */
  start?: number;
  /** Last byte to read, inclusive as in HTTP Range and fs.createReadStream (default: end of file). */
  end?: number;
  /** Size of each chunk but the last (default 64 KiB). */
  chunkSize?: number;
}

/** Options of streamToFile. */
export interface StreamToFileOptions {
  /** Aborting it stops the copy and removes the temporary file; the promise rejects with an AbortError. */
  signal?: AbortSignal;
  /** Called after each chunk with the number of bytes written so far. */
  onProgress?: (bytesWritten: number) => void;
  /** Mode of the created file (default 0o666, minus the umask). */
  mode?: number;
}

function checkChunkSize(chunkSize: number): void {
  if (!Number.isInteger(chunkSize) || chunkSize <= 0) {
    throw new RangeError(`chunkSize must be a positive integer, got ${chunkSize}`);
  }
}

/**
 * Reads bytes `start..end` (inclusive) of a file as Buffers of `chunkSize` bytes (the last may be
 * shorter). The file is closed when the iteration ends, even when the consumer breaks out early.
 */
export async function* fileChunks(path: string, options: FileChunksOptions = {}): AsyncGenerator<Buffer> {
  const { start = 0, end = Number.POSITIVE_INFINITY, chunkSize = DEFAULT_CHUNK_SIZE } = options;
  checkChunkSize(chunkSize);
  if (!Number.isInteger(start) || start < 0) throw new RangeError(`start must be an integer >= 0, got ${start}`);
  if (end !== Number.POSITIVE_INFINITY && (!Number.isInteger(end) || end < start - 1)) {
    throw new RangeError(`end must be an integer >= start - 1, got ${end}`);
  }
  const handle = await open(path, 'r');
  try {
    let position = start;
    while (position <= end) {
      const wanted = Math.min(chunkSize, end - position + 1);
      const buffer = Buffer.allocUnsafe(wanted);
      let filled = 0;
      while (filled < wanted) {
        const { bytesRead } = await handle.read(buffer, filled, wanted - filled, position + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      if (filled === 0) return;
      position += filled;
      yield filled === wanted ? buffer : buffer.subarray(0, filled);
      if (filled < wanted) return;
    }
  } finally {
    await handle.close();
  }
}

/**
 * Cuts `text` into UTF-8 Buffers of at most `chunkSize` bytes, never splitting a character
 * (so each chunk decodes on its own). A chunk may be shorter than `chunkSize` when the next
 * character does not fit; `chunkSize` must be at least 4 (the longest UTF-8 character).
 */
export function* textChunks(text: string, chunkSize: number = DEFAULT_CHUNK_SIZE): Generator<Buffer> {
  checkChunkSize(chunkSize);
  if (chunkSize < 4) throw new RangeError(`chunkSize must be at least 4 bytes, got ${chunkSize}`);
  const bytes = Buffer.from(text, 'utf8');
  let start = 0;
  while (start < bytes.length) {
    let end = Math.min(start + chunkSize, bytes.length);
    // Step back while `end` points at a continuation byte (10xxxxxx): it belongs to the character before.
    while (end < bytes.length && (bytes[end] & 0xc0) === 0x80) end -= 1;
    yield bytes.subarray(start, end);
    start = end;
  }
}

/** A temporary name beside `path`, hidden, unique per call. */
function temporaryPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
}

/** Best effort: makes a rename durable by syncing its directory (not possible on every platform). */
async function syncDirectory(directory: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(directory, 'r');
    await handle.sync();
  } catch {
    // Some platforms (Windows) cannot open or sync a directory: the rename is still done.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/**
 * Writes `source` to `path` atomically and returns the number of bytes written: the data goes to
 * a temporary file in the same directory, which is fsynced and then renamed to `path`. On error
 * or abort the temporary file is removed and `path` is left as it was (never a partial file).
 * `source` may be a Readable or any (async) iterable of bytes, such as fileChunks or textChunks.
 * Backpressure is respected (stream/promises pipeline). The directory must exist.
 */
export async function streamToFile(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array> | Readable,
  path: string,
  options: StreamToFileOptions = {},
): Promise<number> {
  const { signal, onProgress, mode } = options;
  signal?.throwIfAborted();
  const temporary = temporaryPath(path);
  let bytesWritten = 0;
  const counter = async function* (chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const chunk of chunks) {
      bytesWritten += chunk.length;
      onProgress?.(bytesWritten);
      yield chunk;
    }
  };
  try {
    // `flush: true` fsyncs the file before closing it; the pipeline settles once it is closed.
    const sink = createWriteStream(temporary, { flags: 'wx', flush: true, ...(mode === undefined ? {} : { mode }) });
    await pipeline(source, counter, sink, signal === undefined ? {} : { signal });
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  await syncDirectory(dirname(path));
  return bytesWritten;
}
