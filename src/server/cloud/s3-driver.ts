/**
 * The `s3` driver: files as objects of one bucket (key = prefix + path), for several instances.
 * A write uploads to a staging key (multipart for large bodies, through lib-storage), then the
 * commit copies it server-side over the final key and deletes the staging object: the final key
 * only ever holds one writer's whole content. CopyObject stops at 5 GiB: larger objects are
 * copied by a multipart copy (UploadPartCopy). Directories are metadata rows only.
 */
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import type { CompletedPart, S3ClientConfig } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { FusionError } from '../../helper/errors.js';
import type { CloudS3Config } from './config.js';
import type { CloudDriver, OpenedContent, StagedFile } from './driver.js';

/** Key segment of staging objects (reserved: paths may not start with `.fusion-`). */
const STAGING = '.fusion-staging';
/** Multipart part size: memory per upload is about partSize × queueSize. */
const PART_SIZE = 8 * 1024 * 1024;

function driverError(what: string, error: unknown): FusionError {
  const name = (error as { name?: string }).name ?? 'error';
  return new FusionError('FUSION_ERR_CLOUD_DRIVER', `S3 ${what} failed (${name})`, { cause: error });
}

/** CopyObject's limit: larger objects need a multipart copy. */
const COPY_OBJECT_LIMIT = 5 * 1024 * 1024 * 1024;
/** Part size of a multipart copy (raised when 10,000 parts would not hold the object). */
const COPY_PART_SIZE = 512 * 1024 * 1024;
const MAX_PARTS = 10_000;

/** Options of S3CloudDriver (for tests: lower thresholds exercise the multipart copy with small objects). */
export interface S3CloudDriverOptions {
  /** Objects larger than this are copied part by part (default and maximum: 5 GiB, S3's CopyObject limit). */
  copyObjectLimit?: number;
  /** Bytes per UploadPartCopy (default 512 MiB; S3 requires at least 5 MiB but for the last part). */
  copyPartSize?: number;
}

/** The S3 client settings of `config` (path style and checksums set for non-AWS endpoints). */
export function s3ClientConfigOf(config: CloudS3Config): S3ClientConfig {
  return {
    region: config.region,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    forcePathStyle: config.forcePathStyle,
    ...(config.accessKey && config.secretKey ? { credentials: { accessKeyId: config.accessKey, secretAccessKey: config.secretKey } } : {}),
    // radosgw answers streamed bodies with 411 under the default (see TOOLCHAIN.md).
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
}

/** Builds the S3 client of `config`. */
export function s3ClientOf(config: CloudS3Config): S3Client {
  return new S3Client(s3ClientConfigOf(config));
}

/** Files as objects in one S3 bucket. */
export class S3CloudDriver implements CloudDriver {
  /** Always `s3`. */
  readonly kind = 's3' as const;
  /** The S3 client (shared with the tus S3 store). */
  readonly client: S3Client;
  readonly #config: CloudS3Config;
  readonly #copyObjectLimit: number;
  readonly #copyPartSize: number;

  constructor(config: CloudS3Config, options: S3CloudDriverOptions = {}) {
    const { copyObjectLimit = COPY_OBJECT_LIMIT, copyPartSize = COPY_PART_SIZE } = options;
    if (!Number.isInteger(copyObjectLimit) || copyObjectLimit < 0 || copyObjectLimit > COPY_OBJECT_LIMIT) {
      throw new TypeError(`S3CloudDriver: copyObjectLimit must be an integer from 0 to 5 GiB, got ${String(copyObjectLimit)}`);
    }
    if (!Number.isInteger(copyPartSize) || copyPartSize < 1) throw new TypeError(`S3CloudDriver: copyPartSize must be an integer >= 1, got ${String(copyPartSize)}`);
    this.#config = config;
    this.#copyObjectLimit = copyObjectLimit;
    this.#copyPartSize = copyPartSize;
    this.client = s3ClientOf(config);
  }

  /** The settings of the bucket. */
  get config(): CloudS3Config {
    return this.#config;
  }

  /** The bucket holding the tree. */
  get bucket(): string {
    return this.#config.bucket;
  }

  /** The object key of `path`. */
  keyOf(path: string): string {
    return this.#config.prefix === '' ? path : `${this.#config.prefix}/${path}`;
  }

  /** Creates the bucket when it does not exist. */
  async start(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch {
      try {
        await this.client.send(new CreateBucketCommand({ Bucket: this.bucket }));
      } catch (error) {
        const name = (error as { name?: string }).name;
        if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw driverError(`creating bucket ${this.bucket}`, error);
      }
    }
  }

  /** Closes the client's sockets. */
  async close(): Promise<void> {
    this.client.destroy();
  }

  /** Object keys cannot leave the bucket: nothing to check beyond the path rules. */
  async confine(): Promise<void> {}

  /** Uploads `body` to a staging key. */
  async stage(path: string, body: Readable): Promise<StagedFile> {
    const staging = this.keyOf(`${STAGING}/${randomBytes(12).toString('hex')}`);
    const upload = new Upload({ client: this.client, params: { Bucket: this.bucket, Key: staging, Body: body }, partSize: PART_SIZE, queueSize: 2, leavePartsOnError: false });
    // A body that fails (client gone, limit exceeded) must fail the upload, which aborts its parts.
    const failed = new Promise<never>((_, reject) => body.once('error', reject));
    try {
      await Promise.race([upload.done(), failed]);
    } catch (error) {
      await upload.abort().catch(() => undefined);
      await this.#delete(staging).catch(() => undefined);
      throw error;
    }
    return this.#stagedAt(path, staging);
  }

  /** Takes the complete object at `key` (a finished tus upload) as the staged content of `path`: moved by a server-side copy at commit. */
  adoptObject(path: string, key: string): StagedFile {
    return this.#stagedAt(path, key);
  }

  #stagedAt(path: string, staging: string): StagedFile {
    let done = false;
    const discard = async (): Promise<void> => {
      if (done) return;
      done = true;
      await this.#delete(staging);
    };
    return {
      commit: async () => {
        try {
          await this.copyObject(staging, this.keyOf(path));
        } catch (error) {
          await discard().catch(() => undefined);
          throw driverError(`copying the upload to ${path}`, error);
        }
        await discard();
      },
      discard,
    };
  }

  /** Copies object `source` to `target` server-side: CopyObject up to the limit, a multipart copy (UploadPartCopy) above. */
  async copyObject(source: string, target: string): Promise<void> {
    const copySource = `${this.bucket}/${encodeURIComponent(source).replace(/%2F/g, '/')}`;
    const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: source }));
    const size = head.ContentLength ?? 0;
    if (size <= this.#copyObjectLimit) {
      await this.client.send(new CopyObjectCommand({ Bucket: this.bucket, Key: target, CopySource: copySource }));
      return;
    }
    const partSize = Math.max(this.#copyPartSize, Math.ceil(size / MAX_PARTS));
    const created = await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: target }));
    const uploadId = created.UploadId!;
    try {
      const parts: CompletedPart[] = [];
      for (let start = 0, number = 1; start < size; start += partSize, number++) {
        const end = Math.min(size, start + partSize) - 1;
        const part = await this.client.send(
          new UploadPartCopyCommand({ Bucket: this.bucket, Key: target, UploadId: uploadId, PartNumber: number, CopySource: copySource, CopySourceRange: `bytes=${start}-${end}`, CopySourceIfMatch: head.ETag }),
        );
        parts.push({ ETag: part.CopyPartResult?.ETag, PartNumber: number });
      }
      await this.client.send(new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: target, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
    } catch (error) {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: target, UploadId: uploadId })).catch(() => undefined);
      throw error;
    }
  }

  /** Streams the object (or a range of it). */
  /** Heads the object (size, ETag); `read` gets that version only (If-Match): a replaced object is a 503 to retry, never other bytes. */
  async open(path: string): Promise<OpenedContent> {
    const key = this.keyOf(path);
    let size: number;
    let etag: string;
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      size = head.ContentLength ?? 0;
      etag = head.ETag ?? '';
    } catch (error) {
      const name = (error as { name?: string }).name;
      if (name === 'NotFound' || name === 'NoSuchKey') throw new FusionError('FUSION_ERR_CLOUD_NOT_FOUND', `cloud file ${path} has no content in the bucket`);
      throw driverError(`reading ${path}`, error);
    }
    return {
      size,
      read: async (range) => {
        try {
          const result = await this.client.send(
            new GetObjectCommand({ Bucket: this.bucket, Key: key, ...(etag ? { IfMatch: etag } : {}), ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}) }),
          );
          return result.Body as Readable;
        } catch (error) {
          const name = (error as { name?: string }).name;
          if (name === 'PreconditionFailed' || name === 'NoSuchKey') {
            throw new FusionError('FUSION_ERR_UNAVAILABLE', `cloud file ${path} was replaced while it was being opened: retry`, { cause: error });
          }
          throw driverError(`reading ${path}`, error);
        }
      },
      close: async () => undefined,
    };
  }

  async read(path: string, range?: { start: number; end: number }): Promise<Readable> {
    try {
      const result = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.keyOf(path), ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}) }),
      );
      return result.Body as Readable;
    } catch (error) {
      if ((error as { name?: string }).name === 'NoSuchKey') throw new FusionError('FUSION_ERR_CLOUD_NOT_FOUND', `cloud file ${path} has no content in the bucket`);
      throw driverError(`reading ${path}`, error);
    }
  }

  /** S3 has no directories. */
  async makeDirectory(): Promise<void> {}

  /** Deletes the object. */
  async removeFile(path: string): Promise<void> {
    await this.#delete(this.keyOf(path));
  }

  /** Deletes every object under `path/`. */
  async removeTree(path: string): Promise<void> {
    const prefix = `${this.keyOf(path)}/`;
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }));
      const keys = (page.Contents ?? []).map((item) => ({ Key: item.Key! }));
      if (keys.length > 0) await this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: keys, Quiet: true } }));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  async #delete(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (error) {
      throw driverError(`deleting ${key}`, error);
    }
  }
}
