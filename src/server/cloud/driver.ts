/**
 * The storage driver interface: where the bytes of cloud files live. Paths given to a driver are
 * checked already (cloud-path.ts); metadata lives in storage, not in the driver.
 */
import type { Readable } from 'node:stream';

/** A file written to a staging place, not yet visible at its path. */
export interface StagedFile {
  /** Makes the staged bytes the content of the path, atomically (replacing what was there). */
  commit(): Promise<void>;
  /** Removes the staged bytes (after a failure or a refusal); safe to call twice. */
  discard(): Promise<void>;
}

/**
 * One version of a file, opened: `size` is that of the bytes `read` gives, even when the path is
 * replaced meanwhile (local: an open descriptor; S3: the object's ETag, read with If-Match).
 */
export interface OpenedContent {
  /** Bytes of this version. */
  readonly size: number;
  /** Bytes `start..end` (inclusive) of this version, the whole without range; call once (the stream then owns the content). */
  read(range?: { start: number; end: number }): Promise<Readable>;
  /** Releases the content unless `read` took it (safe to call twice). */
  close(): Promise<void>;
}

/** Where cloud files live: a local directory or an S3 bucket. */
export interface CloudDriver {
  /** `local` or `s3`. */
  readonly kind: 'local' | 's3';
  /** Prepares the backend (creates the root or the bucket). */
  start(): Promise<void>;
  /** Releases the backend's connections. */
  close(): Promise<void>;
  /** Throws FUSION_ERR_CLOUD_PATH when `path` would leave the root (local: a symbolic link out of it). */
  confine(path: string): Promise<void>;
  /** Streams `body` to a staging place for `path`; rejects (and leaves nothing) if `body` fails. */
  stage(path: string, body: Readable): Promise<StagedFile>;
  /** Optional: takes a complete local file (a finished tus upload) as the staged content of `path`, moving rather than copying it. */
  adopt?(path: string, file: string): Promise<StagedFile>;
  /** Opens the file at `path` as it is now (ENOENT or FUSION_ERR_CLOUD_NOT_FOUND when missing): size and bytes of one version. */
  open(path: string): Promise<OpenedContent>;
  /** A stream of bytes `start..end` (inclusive) of the file at `path`; the whole file without range. */
  read(path: string, range?: { start: number; end: number }): Promise<Readable>;
  /** Makes the directory at `path` (local: mkdir; S3 has none). */
  makeDirectory(path: string): Promise<void>;
  /** Deletes the file at `path` (no error when missing). */
  removeFile(path: string): Promise<void>;
  /** Deletes the directory at `path` and everything below it (no error when missing). */
  removeTree(path: string): Promise<void>;
}
