/**
 * @tus/file-store with a faster write path that also hashes: each PATCH body goes through one
 * FileSink (batched writes, flushed behind the stream, synced before tus answers the new offset),
 * and the sha256 of the upload is carried from PATCH to PATCH in memory, so a finished upload is
 * not read again to be hashed. The running hash is only trusted while it covers exactly the
 * bytes in the file: a PATCH at another offset than the hash's (a restart of this process, a
 * write that failed midway) drops it, and the finished upload is then hashed from the file.
 * `append` is the same write straight from a request (tus-patch.ts): a size limit checked per
 * chunk, and a request that fails or is cut ends the write (what arrived is kept, synced).
 */
import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
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
    const hash = this.#hashAt(id, offset);
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

  /**
   * Appends what `source` sends at `offset`, at most `limit` bytes (more: ERR_MAX_SIZE_EXCEEDED),
   * synced before the new offset is returned. A failing or cut `source`, or `stop`, ends the write
   * there: the bytes that arrived are kept and counted, as tus keeps them for a resume.
   */
  async append(source: Readable, id: string, offset: number, limit: number, stop: AbortSignal): Promise<number> {
    const file = this.fileOf(id);
    const hash = this.#hashAt(id, offset);
    let handle: FileHandle;
    try {
      handle = await open(file, 'r+');
    } catch {
      throw ERRORS.FILE_WRITE_ERROR;
    }
    let received = 0;
    const sink = new FileSink(handle, {
      start: offset,
      onChunk: (chunk) => {
        received += chunk.length;
        if (received > limit) throw new TooLarge();
        hash?.update(chunk);
      },
    });
    const end = (): void => {
      source.unpipe(sink);
      if (!sink.writableEnded && !sink.destroyed) sink.end();
    };
    const closed = (): void => {
      if (!source.readableEnded) end();
    };
    source.once('error', end);
    source.once('close', closed);
    stop.addEventListener('abort', end, { once: true });
    try {
      source.pipe(sink);
      await finished(sink);
    } catch (error) {
      throw error instanceof TooLarge ? ERRORS.ERR_MAX_SIZE_EXCEEDED : ERRORS.FILE_WRITE_ERROR;
    } finally {
      source.off('error', end);
      source.off('close', closed);
      stop.removeEventListener('abort', end);
      source.unpipe(sink);
      if (!sink.destroyed) sink.destroy();
      await handle.close();
    }
    const written = offset + sink.bytes;
    if (hash) this.#remember(id, hash, written);
    return written;
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

  /** The running hash of upload `id` if it ends at `offset` (a fresh one at 0), else null; taken out of the map. */
  #hashAt(id: string, offset: number): Hash | null {
    const known = this.#running.get(id);
    this.#running.delete(id);
    return known?.offset === offset ? known.hash : offset === 0 ? createHash('sha256') : null;
  }

  #remember(id: string, hash: Hash, offset: number): void {
    if (this.#running.size >= MAX_RUNNING) this.#running.delete(this.#running.keys().next().value!);
    this.#running.set(id, { hash, offset });
  }
}

/** A body over its limit (thrown by the sink's observer, answered as tus' ERR_MAX_SIZE_EXCEEDED). */
class TooLarge extends Error {}
