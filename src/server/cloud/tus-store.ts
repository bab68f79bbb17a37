/**
 * Where tus keeps partial uploads, by driver. Local driver: @tus/file-store in `upload_dir` (on
 * the instance's disk). S3 driver: @tus/s3-store in the driver's bucket under the reserved key
 * prefix `.fusion-uploads/`, its metadata cache off, so any instance sharing the bucket resumes
 * an upload another one started. A finished upload is hashed (on disk, by the hash its PATCHes
 * carried when it covers the whole file), then staged for its path (a move on disk, a server-side
 * copy in the bucket).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DeleteObjectsCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { S3Store } from '@tus/s3-store';
import type { DataStore, KvStore, ServerOptions } from '@tus/server';
import type { FusionCloudConfig } from './config.js';
import type { CloudDriver, StagedFile } from './driver.js';
import { S3CloudDriver, s3ClientConfigOf } from './s3-driver.js';
import { expireFileUploads, expireS3Uploads } from './tus-expiry.js';
import { HashingFileStore } from './tus-file-store.js';
import type { FusionStorage } from '../storage/storage.js';

/** The partial-upload store of the tus server, and what the cloud API does with finished uploads. */
export interface TusBackend {
  readonly datastore: DataStore;
  /** Options mapping the id in an upload URL to the store's id (and back). */
  readonly naming: Pick<ServerOptions, 'namingFunction' | 'generateUrl' | 'getFileIdFromRequest'>;
  /** The store's id of the upload whose URL ends in `urlId` (32 hex digits). */
  idOf(urlId: string): string;
  /** Hashes finished upload `id` (of `size` bytes) and stages it as the content of cloud path `path`. */
  stageFinished(id: string, path: string, size: number): Promise<{ staged: StagedFile; sha256: string }>;
  /** Removes what is left of upload `id` (after its commit or its refusal); never throws. */
  cleanup(id: string): Promise<void>;
  /** Removes the unfinished uploads created before `before` with their partial data (those whose lock is free); the ids removed. */
  expire(storage: FusionStorage, before: Date): Promise<string[]>;
}

/** Key prefix of partial uploads in the bucket (reserved: cloud paths may not start with `.fusion-`). */
const UPLOADS = '.fusion-uploads';

async function sha256Of(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(stream, hash);
  return hash.digest('hex');
}

/** A KvStore that keeps nothing: each request reads the upload's metadata from the bucket, as another instance may have changed it. */
class NoCache<T> implements KvStore<T> {
  async get(): Promise<T | undefined> {
    return undefined;
  }
  async set(): Promise<void> {}
  async delete(): Promise<void> {}
  async list(): Promise<string[]> {
    return [];
  }
}

/** The tus backend of `driver`. */
export function tusBackendOf(driver: CloudDriver, config: FusionCloudConfig): TusBackend {
  return driver instanceof S3CloudDriver ? s3Backend(driver, config.uploadExpiry) : fileBackend(driver, config.uploadDir ?? join(config.root, UPLOADS), config.uploadExpiry);
}

function fileBackend(driver: CloudDriver, directory: string, expirySeconds: number): TusBackend {
  // The store's expiration makes tus answer Upload-Expires and 410 for an expired upload; tus-expiry.ts removes them.
  const datastore = new HashingFileStore({ directory, expirationPeriodInMilliseconds: expirySeconds * 1000 });
  return {
    datastore,
    naming: {},
    idOf: (urlId) => urlId,
    async stageFinished(id, path, size) {
      const file = datastore.fileOf(id);
      const sha256 = datastore.takeDigest(id, size) ?? (await sha256Of(createReadStream(file)));
      const staged = driver.adopt ? await driver.adopt(path, file) : await driver.stage(path, createReadStream(file));
      return { staged, sha256 };
    },
    async cleanup(id) {
      datastore.forget(id);
      await rm(join(directory, id), { force: true }).catch(() => undefined);
      await rm(join(directory, `${id}.json`), { force: true }).catch(() => undefined);
    },
    expire: (storage, before) => expireFileUploads(storage, directory, before, (id) => datastore.forget(id)),
  };
}

function s3Backend(driver: S3CloudDriver, expirySeconds: number): TusBackend {
  const prefix = `${driver.keyOf(UPLOADS)}/`;
  // As for the file store: tus' HEAD answers 410 and Upload-Expires from the store's expiration.
  // No expiration tags on the objects: tus-expiry.ts removes expired uploads, not a bucket lifecycle rule.
  const datastore = new S3Store({
    s3ClientConfig: { bucket: driver.bucket, ...s3ClientConfigOf(driver.config) },
    cache: new NoCache(),
    expirationPeriodInMilliseconds: expirySeconds * 1000,
    useTags: false,
  });
  return {
    datastore,
    naming: {
      namingFunction: () => `${prefix}${randomBytes(16).toString('hex')}`,
      generateUrl: (_req, { path, id }) => `${path}/${id.slice(prefix.length)}`,
      getFileIdFromRequest: (_req, lastPath) => (lastPath === undefined ? undefined : `${prefix}${lastPath}`),
    },
    idOf: (urlId) => `${prefix}${urlId}`,
    async stageFinished(id, path) {
      const object = await driver.client.send(new GetObjectCommand({ Bucket: driver.bucket, Key: id }));
      const sha256 = await sha256Of(object.Body as Readable);
      return { staged: driver.adoptObject(path, id), sha256 };
    },
    async cleanup(id) {
      await driver.client
        .send(new DeleteObjectsCommand({ Bucket: driver.bucket, Delete: { Objects: [{ Key: id }, { Key: `${id}.info` }, { Key: `${id}.part` }], Quiet: true } }))
        .catch(() => undefined);
    },
    expire: (storage, before) => expireS3Uploads(storage, driver, prefix, before),
  };
}
