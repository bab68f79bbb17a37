/**
 * The `s3` driver: files as objects of one bucket (key = prefix + path), for several instances.
 * A write uploads to a staging key (multipart for large bodies, through lib-storage), then the
 * commit copies it server-side over the final key and deletes the staging object: the final key
 * only ever holds one writer's whole content. Directories are metadata rows only.
 */
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { FusionError } from '../../helper/errors.js';
import type { CloudS3Config } from './config.js';
import type { CloudDriver, StagedFile } from './driver.js';

/** Key segment of staging objects (reserved: paths may not start with `.fusion-`). */
const STAGING = '.fusion-staging';
/** Multipart part size: memory per upload is about partSize × queueSize. */
const PART_SIZE = 8 * 1024 * 1024;

function driverError(what: string, error: unknown): FusionError {
  const name = (error as { name?: string }).name ?? 'error';
  return new FusionError('FUSION_ERR_CLOUD_DRIVER', `S3 ${what} failed (${name})`, { cause: error });
}

/** Builds the S3 client of `config` (path style and checksums set for non-AWS endpoints). */
export function s3ClientOf(config: CloudS3Config): S3Client {
  return new S3Client({
    region: config.region,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    forcePathStyle: config.forcePathStyle,
    ...(config.accessKey && config.secretKey ? { credentials: { accessKeyId: config.accessKey, secretAccessKey: config.secretKey } } : {}),
    // radosgw answers streamed bodies with 411 under the default (see TOOLCHAIN.md).
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** Files as objects in one S3 bucket. */
export class S3CloudDriver implements CloudDriver {
  /** Always `s3`. */
  readonly kind = 's3' as const;
  /** The S3 client (shared with the tus S3 store). */
  readonly client: S3Client;
  readonly #config: CloudS3Config;

  constructor(config: CloudS3Config) {
    this.#config = config;
    this.client = s3ClientOf(config);
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
    let done = false;
    const discard = async (): Promise<void> => {
      if (done) return;
      done = true;
      await this.#delete(staging);
    };
    return {
      commit: async () => {
        try {
          await this.client.send(new CopyObjectCommand({ Bucket: this.bucket, Key: this.keyOf(path), CopySource: `${this.bucket}/${encodeURIComponent(staging).replace(/%2F/g, '/')}` }));
        } catch (error) {
          await discard().catch(() => undefined);
          throw driverError(`copying the upload to ${path}`, error);
        }
        await discard();
      },
      discard,
    };
  }

  /** Streams the object (or a range of it). */
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
