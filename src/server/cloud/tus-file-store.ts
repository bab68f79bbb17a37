/**
 * @tus/file-store with a faster write path that also hashes: each PATCH body goes through one
 * FileSink (batched writes, flushed behind the stream, synced before tus answers the new offset),
 * and the sha256 of the upload is carried from PATCH to PATCH in memory, so a finished upload is
 * not read again to be hashed. The running hash is only trusted while it covers exactly the
 * bytes in the file: a PATCH at another offset than the hash's (a restart of this process, a
 * write that failed midway) drops it, and the finished upload is then hashed from the file.
 */
import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FileStore } from '@tus/file-store';
import { ERRORS } from '@tus/server';
import { FileSink } from './file-sink.js';

/** Running hashes kept at most (uploads left unfinished are forgotten oldest first). */
const MAX_RUNNING = 1024;

/** A FileStore whose writes are synced and hashed as they arrive. */
export class HashingFileStore extends FileStore {
  /** Upload id to the hash of its first `offset` bytes. */
  readonly #running = new Map<string, { hash: Hash; offset: number }>();

  /** The upload's file (ids are ours: 32 hex digits, never a path). */
  fileOf(id: string): string {
    if (!/^[0-9a-f]{32}$/.test(id)) throw ERRORS.FILE_NOT_FOUND;
    return join(this.directory, id);
  }

  /** Appends `readable` at `offset`, synced to disk before the new offset is returned. */
  override async write(readable: IncomingMessage | Readable, id: string, offset: number): Promise<number> {
    const file = this.fileOf(id);
    const known = this.#running.get(id);
    this.#running.delete(id);
    const hash = known?.offset === offset ? known.hash : offset === 0 ? createHash('sha256') : null;
    let handle: FileHandle | undefined;
    let sink: FileSink;
    try {
      handle = await open(file, 'r+');
      sink = new FileSink(handle, { start: offset, ...(hash ? { onChunk: (chunk) => hash.update(chunk) } : {}) });
      await pipeline(readable, sink);
    } catch {
      throw ERRORS.FILE_WRITE_ERROR;
    } finally {
      await handle?.close();
    }
    const end = offset + sink.bytes;
    if (hash) this.#remember(id, hash, end);
    return end;
  }

  /** Forgets the upload's hash with its file. */
  override async remove(id: string): Promise<void> {
    this.#running.delete(id);
    await super.remove(id);
  }

  /** The sha256 of upload `id` when its running hash covers all its `size` bytes, else null; forgets it. */
  takeDigest(id: string, size: number): string | null {
    const known = this.#running.get(id);
    this.#running.delete(id);
    return known?.offset === size ? known.hash.digest('hex') : null;
  }

  /** Drops the running hash of upload `id` (finished, refused or cancelled). */
  forget(id: string): void {
    this.#running.delete(id);
  }

  #remember(id: string, hash: Hash, offset: number): void {
    if (this.#running.size >= MAX_RUNNING) this.#running.delete(this.#running.keys().next().value!);
    this.#running.set(id, { hash, offset });
  }
}
