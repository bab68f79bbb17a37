/**
 * The cloud operations behind the routes (and the tus hooks): list, create and delete
 * directories, write, read and delete files, with the permission checks, limits and metadata.
 * Bytes go to the driver first; the metadata row is written after the commit, under a lock on
 * the path shared by every instance, so a row always describes the bytes at its path.
 */
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyRequest } from 'fastify';
import type { Knex } from 'knex';
import { FusionError } from '../../helper/errors.js';
import type { FusionHost } from '../host.js';
import { deleteAssignmentsBelow, upsertAssignment } from './assignment-rows.js';
import type { CloudAccess, RequestCaller } from './access.js';
import { parentOf } from './cloud-path.js';
import type { CloudPath } from './cloud-path.js';
import type { FusionCloudConfig } from './config.js';
import type { CloudDriver, OpenedContent } from './driver.js';
import { deleteTree, hasChildren, insertDirectory, selectChildren, selectEntry, upsertFile, usedBytes } from './entry-rows.js';
import type { CloudEntry } from '../../concept/index.js';
import type { KeyPage } from '../storage/storage.js';
import { emitCloudEvent } from './events.js';
import { UploadMeter } from './meter.js';

/** Options of a file write. */
export interface WriteOptions {
  /** Replace an existing file (needs WRITE_FILE on it); without it an existing file is a 409. */
  overwrite: boolean;
  /** The announced length (Content-Length, tus Upload-Length), checked before a byte is read. */
  length?: number | undefined;
}

/** The lock key of a path's commit. */
function lockKey(path: string): string {
  return `fusion/cloud:${path}`;
}

function notFound(path: string, what = 'file or directory'): FusionError {
  return new FusionError('FUSION_ERR_CLOUD_NOT_FOUND', `no ${what} at /${path}`);
}

/** The operations of the cloud API, checked and recorded. */
export class CloudFiles {
  readonly #host: FusionHost;
  readonly #config: FusionCloudConfig;
  readonly #access: CloudAccess;
  readonly #driver: CloudDriver;

  constructor(host: FusionHost, config: FusionCloudConfig, access: CloudAccess, driver: CloudDriver) {
    this.#host = host;
    this.#config = config;
    this.#access = access;
    this.#driver = driver;
  }

  get #knex(): Knex {
    return this.#host.storage.knex;
  }

  /** The directory entry at `path` (the root is always one); 404 when missing or a file. */
  async #directory(path: string): Promise<void> {
    if (path === '') return;
    const entry = await selectEntry(this.#knex, path);
    if (entry === null || entry.type !== 'directory') throw notFound(path, 'directory');
  }

  /** The entries of directory `dir` (READ_TREE_DIRECTORY on it). */
  async list(request: FastifyRequest, who: RequestCaller, dir: CloudPath, page?: KeyPage): Promise<CloudEntry[]> {
    await this.#driver.confine(dir.path);
    await this.#access.require(request, who, 'READ_TREE_DIRECTORY', dir.path);
    await this.#directory(dir.path);
    return selectChildren(this.#knex, dir.path, page);
  }

  /** Creates directory `dir` (CREATE_SUB_DIRECTORY on its parent); 409 when something is there, 400 for the root. */
  async createDirectory(request: FastifyRequest, who: RequestCaller, dir: CloudPath): Promise<CloudEntry> {
    if (dir.path === '') throw new FusionError('FUSION_ERR_CLOUD_PATH', 'bad cloud path: the root directory always exists and cannot be created: name a directory below it');
    await this.#driver.confine(dir.path);
    const parent = parentOf(dir).path;
    await this.#access.require(request, who, 'CREATE_SUB_DIRECTORY', parent);
    return this.#host.storage.withAdvisoryLock(lockKey(dir.path), async () => {
      await this.#directory(parent);
      // A file there (or a directory): refused before the driver is asked to make anything.
      if ((await selectEntry(this.#knex, dir.path)) !== null) throw new FusionError('FUSION_ERR_CLOUD_EXISTS', `/${dir.path} exists already`);
      const creator = who.caller.kind === 'anonymous' ? null : who.caller.username;
      const now = new Date();
      await this.#driver.makeDirectory(dir.path);
      if (!(await insertDirectory(this.#knex, dir.path, creator, now))) {
        throw new FusionError('FUSION_ERR_CLOUD_EXISTS', `/${dir.path} exists already`);
      }
      await this.#giveCreatorRole(who, dir.path, now);
      const entry = (await selectEntry(this.#knex, dir.path))!;
      await emitCloudEvent(this.#host, 'cloud_create', entry);
      return entry;
    });
  }

  /** Deletes directory `dir` (DELETE_SUB_DIRECTORY on its parent); non-empty needs `recursive`. */
  async deleteDirectory(request: FastifyRequest, who: RequestCaller, dir: CloudPath, recursive: boolean): Promise<void> {
    if (dir.path === '') throw new FusionError('FUSION_ERR_CLOUD_PATH', 'bad cloud path: the root directory cannot be deleted');
    await this.#driver.confine(dir.path);
    await this.#access.require(request, who, 'DELETE_SUB_DIRECTORY', parentOf(dir).path);
    await this.#host.storage.withAdvisoryLock(lockKey(dir.path), async () => {
      const entry = await selectEntry(this.#knex, dir.path);
      if (entry === null || entry.type !== 'directory') throw notFound(dir.path, 'directory');
      if (!recursive && (await hasChildren(this.#knex, dir.path))) {
        throw new FusionError('FUSION_ERR_CLOUD_NOT_EMPTY', `/${dir.path} is not empty: pass recursive=true to delete it with its content`);
      }
      // Rows first: once they are gone nothing is listed or served, whatever happens to the bytes.
      await this.#knex.transaction(async (trx) => {
        await deleteTree(trx, dir.path);
        await deleteAssignmentsBelow(trx, dir.path);
      });
      await this.#driver.removeTree(dir.path);
      await emitCloudEvent(this.#host, 'cloud_delete', entry);
    });
  }

  /** The file entry at `path` after checking READ_FILE (for GET file and one-time links; `request` null for a service's call). */
  async readable(request: FastifyRequest | null, who: RequestCaller, file: CloudPath): Promise<CloudEntry> {
    if (file.path === '') throw new FusionError('FUSION_ERR_CLOUD_PATH', 'bad cloud path: the root is a directory, not a file');
    await this.#driver.confine(file.path);
    await this.#access.require(request, who, 'READ_FILE', file.path);
    const entry = await selectEntry(this.#knex, file.path);
    if (entry === null || entry.type !== 'file') throw notFound(file.path, 'file');
    return entry;
  }

  /**
   * File `path` opened as it is now, with its row read after opening and the ETag of that version:
   * the row's sha256 when the row's size is the opened size (null otherwise: the file is being
   * replaced, the answer goes without ETag). Sizes and bytes always come from the opened version.
   */
  async openVersion(path: string): Promise<{ content: OpenedContent; entry: CloudEntry | null; etag: string | null }> {
    let content: OpenedContent;
    try {
      content = await this.#driver.open(path);
    } catch (error) {
      if ((error as { code?: string }).code === 'ENOENT') throw notFound(path, 'file');
      throw error;
    }
    try {
      const entry = await selectEntry(this.#knex, path);
      const etag = entry?.type === 'file' && entry.size === content.size && entry.sha256 ? `"${entry.sha256}"` : null;
      return { content, entry, etag };
    } catch (error) {
      await content.close();
      throw error;
    }
  }

  /** A stream of the file's bytes (or a range of them). */
  async open(path: string, range?: { start: number; end: number }): Promise<Readable> {
    try {
      return await this.#driver.read(path, range);
    } catch (error) {
      if ((error as { code?: string }).code === 'ENOENT') throw notFound(path, 'file');
      throw error;
    }
  }

  /** Deletes file `path` (DELETE_FILE on it). */
  async deleteFile(request: FastifyRequest, who: RequestCaller, file: CloudPath): Promise<void> {
    await this.#driver.confine(file.path);
    await this.#access.require(request, who, 'DELETE_FILE', file.path);
    await this.#host.storage.withAdvisoryLock(lockKey(file.path), async () => {
      const entry = await selectEntry(this.#knex, file.path);
      if (entry === null || entry.type !== 'file') throw notFound(file.path, 'file');
      await this.#knex.transaction(async (trx) => {
        await deleteTree(trx, file.path);
        await deleteAssignmentsBelow(trx, file.path);
      });
      await this.#driver.removeFile(file.path);
      await emitCloudEvent(this.#host, 'cloud_delete', entry);
    });
  }

  /**
   * Checks that `who` may write `file` now (CREATE_FILE on the parent for a new file, WRITE_FILE on
   * an existing one with `overwrite`) and that `length` fits the limits; returns the byte budget.
   */
  async checkWrite(request: FastifyRequest, who: RequestCaller, file: CloudPath, options: WriteOptions): Promise<number> {
    if (file.path === '') throw new FusionError('FUSION_ERR_CLOUD_PATH', 'bad cloud path: the root is a directory, not a file');
    await this.#driver.confine(file.path);
    const existing = await selectEntry(this.#knex, file.path);
    // Permission first: a caller who may not write here learns nothing of what is there (403, not 409).
    if (existing !== null && options.overwrite) await this.#access.require(request, who, 'WRITE_FILE', file.path);
    else await this.#access.require(request, who, 'CREATE_FILE', parentOf(file).path);
    if (existing?.type === 'directory') throw new FusionError('FUSION_ERR_CLOUD_EXISTS', `/${file.path} is a directory`);
    if (existing !== null && !options.overwrite) {
      throw new FusionError('FUSION_ERR_CLOUD_EXISTS', `/${file.path} exists already: pass overwrite=true to replace it`);
    }
    await this.#directory(parentOf(file).path);
    const budget = await this.#budget(who, file.path, existing);
    if (options.length !== undefined) this.#checkFits(options.length, budget, who);
    return budget.bytes;
  }

  /**
   * Writes `body` as the content of `file`: checked (checkWrite), streamed to the driver's staging
   * place through the meter (limits enforced while streaming), then committed with its row.
   */
  async writeFile(request: FastifyRequest, who: RequestCaller, file: CloudPath, body: Readable, options: WriteOptions): Promise<{ entry: CloudEntry; created: boolean }> {
    const limit = await this.checkWrite(request, who, file, options);
    const meter = new UploadMeter(limit, (bytes) => this.#tooLarge(bytes, who));
    const feeding = pipeline(body, meter);
    feeding.catch(() => undefined); // the staging write sees the same failure
    let staged;
    try {
      staged = await this.#driver.stage(file.path, meter);
      await feeding;
    } catch (error) {
      if (error instanceof FusionError) throw error;
      if (body.destroyed || body.readableAborted) throw new FusionError('FUSION_ERR_BAD_REQUEST', 'the upload was interrupted: nothing was written', { cause: error });
      throw error;
    }
    if (options.length !== undefined && meter.bytes !== options.length) {
      await staged.discard();
      throw new FusionError('FUSION_ERR_BAD_REQUEST', `the body has ${meter.bytes} bytes, not the ${options.length} announced`);
    }
    return this.commit(who, file, { commit: () => staged.commit(), discard: () => staged.discard() }, { size: meter.bytes, sha256: meter.digest() }, options);
  }

  /**
   * Under the path's lock: re-checks existence and quota (another writer may have committed
   * meanwhile), commits the staged bytes, writes the row, gives the creator role to a new file's
   * creator, and emits the event. Discards the staged bytes when refused.
   */
  async commit(
    who: RequestCaller,
    file: CloudPath,
    staged: { commit(): Promise<void>; discard(): Promise<void> },
    content: { size: number; sha256: string },
    options: Pick<WriteOptions, 'overwrite'>,
  ): Promise<{ entry: CloudEntry; created: boolean }> {
    try {
      return await this.#host.storage.withAdvisoryLock(lockKey(file.path), async () => {
        const existing = await selectEntry(this.#knex, file.path);
        if (existing?.type === 'directory') throw new FusionError('FUSION_ERR_CLOUD_EXISTS', `/${file.path} is a directory`);
        if (existing !== null && !options.overwrite) {
          throw new FusionError('FUSION_ERR_CLOUD_EXISTS', `/${file.path} was created meanwhile: pass overwrite=true to replace it`);
        }
        this.#checkFits(content.size, await this.#budget(who, file.path, existing), who);
        await staged.commit();
        const now = new Date();
        const creator = existing?.creator ?? (who.caller.kind === 'anonymous' ? null : who.caller.username);
        const entry = await upsertFile(this.#knex, { path: file.path, size: content.size, sha256: content.sha256, creator }, now);
        if (existing === null) await this.#giveCreatorRole(who, file.path, now);
        await emitCloudEvent(this.#host, existing === null ? 'cloud_create' : 'cloud_write', entry);
        return { entry, created: existing === null };
      });
    } catch (error) {
      await staged.discard().catch(() => undefined);
      throw error;
    }
  }

  /** How many bytes the write may bring: the file limit, and the quota of who is charged. */
  async #budget(who: RequestCaller, path: string, existing: CloudEntry | null): Promise<{ bytes: number; quota: boolean }> {
    const max = this.#config.maxFileBytes ?? Number.MAX_SAFE_INTEGER;
    const quota = this.#config.quotaBytes;
    const charged = existing?.creator ?? (who.caller.kind === 'user' ? who.caller.username : null);
    if (quota === null || who.caller.kind === 'managed' || charged === null) return { bytes: max, quota: false };
    const left = Math.max(0, quota - (await usedBytes(this.#knex, charged, path)));
    return left < max ? { bytes: left, quota: true } : { bytes: max, quota: false };
  }

  #checkFits(size: number, budget: { bytes: number; quota: boolean }, who: RequestCaller): void {
    if (size > budget.bytes) throw budget.quota ? this.#overQuota(size) : this.#tooLarge(size, who);
  }

  #tooLarge(bytes: number, who: RequestCaller): FusionError {
    const max = this.#config.maxFileBytes;
    if (max !== null && bytes > max) return new FusionError('FUSION_ERR_CLOUD_TOO_LARGE', `the file is larger than cloud.max_file_bytes (${max} bytes)`);
    return who.caller.kind === 'user' ? this.#overQuota(bytes) : new FusionError('FUSION_ERR_CLOUD_TOO_LARGE', 'the file is too large');
  }

  #overQuota(bytes: number): FusionError {
    return new FusionError('FUSION_ERR_CLOUD_QUOTA', `${bytes} more bytes would exceed cloud.quota_bytes (${this.#config.quotaBytes} bytes)`);
  }

  async #giveCreatorRole(who: RequestCaller, path: string, now: Date): Promise<void> {
    const role = this.#config.creatorRole;
    if (role === null || who.caller.kind !== 'user') return;
    await upsertAssignment(this.#knex, { path, kind: 'user', principal: who.caller.username, role }, now);
  }
}
