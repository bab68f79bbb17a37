/**
 * A Writable onto an open file: chunks are gathered into one `writev` (up to a 1 MiB buffer), an
 * optional observer sees each chunk in order (a hash), and the written bytes are flushed to disk
 * behind the stream (a `datasync` every `syncEvery` bytes, overlapping the next writes) so the
 * `sync` at the end, before the stream finishes, has little left to do.
 */
import type { FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';

/** Options of a FileSink. */
export interface FileSinkOptions {
  /** File position of the first byte (default 0). */
  start?: number;
  /** Sees every chunk, in order, before it is written. */
  onChunk?: (chunk: Buffer) => void;
  /** Bytes between background flushes (default 32 MiB). */
  syncEvery?: number;
}

/** Writes what it is given to `handle` from `start`; finishes only once the bytes are synced. */
export class FileSink extends Writable {
  /** Bytes written so far. */
  bytes = 0;
  readonly #handle: FileHandle;
  readonly #start: number;
  readonly #onChunk: ((chunk: Buffer) => void) | undefined;
  readonly #syncEvery: number;
  #unsynced = 0;
  #syncing: Promise<void> | null = null;
  #syncError: unknown = null;

  constructor(handle: FileHandle, options: FileSinkOptions = {}) {
    super({ highWaterMark: 1024 * 1024 });
    this.#handle = handle;
    this.#start = options.start ?? 0;
    this.#onChunk = options.onChunk;
    this.#syncEvery = options.syncEvery ?? 32 * 1024 * 1024;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#write([chunk]).then(() => callback(), callback);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (error?: Error | null) => void): void {
    this.#write(chunks.map((c) => c.chunk)).then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#settle()
      .then(() => this.#handle.sync())
      .then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // The owner closes the handle after the stream: no flush may still be running on it then.
    this.#settle().then(
      () => callback(error),
      () => callback(error),
    );
  }

  async #settle(): Promise<void> {
    await this.#syncing;
    if (this.#syncError !== null) throw this.#syncError;
  }

  async #write(buffers: Buffer[]): Promise<void> {
    if (this.#syncError !== null) throw this.#syncError;
    let length = 0;
    for (const buffer of buffers) {
      this.#onChunk?.(buffer);
      length += buffer.length;
    }
    let left = buffers;
    let done = 0;
    while (done < length) {
      const { bytesWritten } = await this.#handle.writev(left, this.#start + this.bytes + done);
      done += bytesWritten;
      if (done < length) left = rest(left, bytesWritten);
    }
    this.bytes += length;
    this.#unsynced += length;
    if (this.#unsynced >= this.#syncEvery && this.#syncing === null) {
      this.#unsynced = 0;
      this.#syncing = this.#handle
        .datasync()
        .catch((error: unknown) => {
          this.#syncError = error;
        })
        .finally(() => (this.#syncing = null));
    }
  }
}

/** `buffers` without their first `skip` bytes (after a short write). */
function rest(buffers: Buffer[], skip: number): Buffer[] {
  const out: Buffer[] = [];
  for (const buffer of buffers) {
    if (skip >= buffer.length) {
      skip -= buffer.length;
      continue;
    }
    out.push(skip > 0 ? buffer.subarray(skip) : buffer);
    skip = 0;
  }
  return out;
}
