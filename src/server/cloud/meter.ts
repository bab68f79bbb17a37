/** A pass-through that hashes (sha256) and counts the bytes of an upload and stops it past a limit. */
import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import type { FusionError } from '../../helper/errors.js';

/** Counts and hashes what passes; fails with `tooLarge(bytes)` once more than `limit` bytes passed. */
export class UploadMeter extends Transform {
  /** Bytes seen so far. */
  bytes = 0;
  readonly #hash = createHash('sha256');
  readonly #limit: number;
  readonly #tooLarge: (bytes: number) => FusionError;

  constructor(limit: number, tooLarge: (bytes: number) => FusionError) {
    super({ highWaterMark: 256 * 1024 });
    this.#limit = limit;
    this.#tooLarge = tooLarge;
  }

  /** Hex sha256 of everything seen (call once, after the end). */
  digest(): string {
    return this.#hash.digest('hex');
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.#limit) {
      callback(this.#tooLarge(this.bytes));
      return;
    }
    this.#hash.update(chunk);
    callback(null, chunk);
  }
}
