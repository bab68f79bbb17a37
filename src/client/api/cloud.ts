/**
 * Client twin of FusionCloudAPI: list, create and delete directories, upload (plain or resumable
 * with tus 1.0), download (resumed with Range), zip, permissions and role assignments.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Readable, Transform } from 'node:stream';
import type { FileHandle } from 'node:fs/promises';
import type { CloudEntry, CloudLink, CloudPermissionsInfo, CloudRoleAssignment } from '../../concept/index.js';
export type { CloudLink, CloudPermissionsInfo, CloudRoleAssignment };
import { listPages } from '../list-pages.js';
import type { PageOptions } from '../list-pages.js';
import type { FusionClient, FusionRawResponse } from '../client.js';
import { FusionClientError, isFusionClientError } from '../errors.js';

/** Options of FusionCloudAPIClient. */
export interface FusionCloudAPIClientOptions {
  client: FusionClient;
}

/** A user or a group. */
export type CloudPrincipalRef = { user: string } | { group: string };

/** Options of `upload`. */
export interface CloudUploadOptions {
  /** Replace an existing file (needs WRITE_FILE on it). */
  overwrite?: boolean;
  /** Use tus resumable uploads: a cut connection resumes where the server stopped (needs a local path or `length`). */
  resumable?: boolean;
  /** Bytes per tus PATCH request (default 64 MiB). */
  chunkSize?: number;
  /** Attempts in a row that may fail without progress before giving up (resumable only; default 3). */
  retries?: number;
  /** Length of a stream body (plain uploads send it as Content-Length). */
  length?: number;
  /** Called with the bytes sent so far and the total when known. */
  onProgress?: (bytes: number, total: number | null) => void;
  /** Aborts the upload. */
  signal?: AbortSignal;
}

/** Options of `download` and `downloadZip`. */
export interface CloudDownloadOptions {
  /** Called with the bytes written so far and the total when known. */
  onProgress?: (bytes: number, total: number | null) => void;
  /** Attempts in a row that may fail without a new byte before giving up (default 3). */
  retries?: number;
  /** Aborts the download; the temporary file is removed. */
  signal?: AbortSignal;
}

const TUS_VERSION = '1.0.0';

/** Percent-encodes each segment of a cloud path (`/a b/c` gives `a%20b/c`). */
export function encodeCloudPath(path: string): string {
  return path
    .split('/')
    .filter((segment) => segment !== '')
    .map(encodeURIComponent)
    .join('/');
}

function header(response: FusionRawResponse, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function progress(onProgress: CloudUploadOptions['onProgress'], base: number, total: number | null): Transform {
  let sent = base;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      sent += chunk.length;
      onProgress?.(sent, total);
      callback(null, chunk);
    },
  });
}

function clientError(status: number, code: string, message: string, endpoint: string): FusionClientError {
  return new FusionClientError({ status, code, message, endpoint });
}

/** Calls the cloud routes of a Fusion service. */
export class FusionCloudAPIClient {
  readonly #client: FusionClient;

  constructor(options: FusionCloudAPIClientOptions) {
    if (!options?.client) throw new TypeError('FusionCloudAPIClient: client is required');
    this.#client = options.client;
  }

  /** The entries of directory `dir` (`/` for the root). */
  list(dir: string): Promise<CloudEntry[]> {
    return this.#client.get<CloudEntry[]>(`/api/cloud/tree/${encodeCloudPath(dir)}`);
  }

  /** The entries of directory `dir` page by page (by path). */
  listPages(dir: string, options: PageOptions = {}): AsyncGenerator<CloudEntry[], void, undefined> {
    return listPages(this.#client, `/api/cloud/tree/${encodeCloudPath(dir)}`, (item) => item as CloudEntry, 'FusionCloudAPIClient.listPages', options);
  }

  /** Creates directory `dir`; its creator gets `cloud.creator_role` on it. */
  createDirectory(dir: string): Promise<CloudEntry> {
    return this.#client.post<CloudEntry>(`/api/cloud/directory/${encodeCloudPath(dir)}`);
  }

  /** Deletes directory `dir` (with its content when `recursive`). */
  async deleteDirectory(dir: string, options: { recursive?: boolean } = {}): Promise<void> {
    await this.#client.delete(`/api/cloud/directory/${encodeCloudPath(dir)}`, { query: { recursive: options.recursive === true ? 'true' : undefined } });
  }

  /** Deletes file `path`. */
  async delete(path: string): Promise<void> {
    await this.#client.delete(`/api/cloud/file/${encodeCloudPath(path)}`);
  }

  /** The caller's role and permissions on `path`. */
  permissions(path: string): Promise<CloudPermissionsInfo> {
    return this.#client.get<CloudPermissionsInfo>(`/api/cloud/permissions/${encodeCloudPath(path)}`);
  }

  /** The assignments on `path` (needs ASSIGN_ROLES). */
  roles(path: string): Promise<CloudRoleAssignment[]> {
    return this.#client.get<CloudRoleAssignment[]>(`/api/cloud/roles/${encodeCloudPath(path)}`);
  }

  /** Gives `role` to a user or a group on `path` (needs ASSIGN_ROLES). */
  async assignRole(path: string, principal: CloudPrincipalRef, role: string): Promise<void> {
    await this.#client.put(`/api/cloud/roles/${encodeCloudPath(path)}`, { ...principal, role });
  }

  /** Removes the assignment of a user or a group on `path`: inheritance comes back. */
  async removeRole(path: string, principal: CloudPrincipalRef): Promise<void> {
    await this.#client.delete(`/api/cloud/roles/${encodeCloudPath(path)}`, { body: principal });
  }

  /**
   * Prepares a one-time download link to file `remotePath` (needs READ_FILE on it): fetch it with
   * FusionDownloadAPIClient.download(link, output), without logging in, from any instance (S3 driver).
   */
  link(remotePath: string): Promise<CloudLink> {
    return this.#client.post<CloudLink>(`/api/cloud/link/${encodeCloudPath(remotePath)}`);
  }

  /** Uploads a local file (path), a Buffer or a stream to `remotePath`; returns the stored entry. */
  async upload(input: string | Buffer | Readable, remotePath: string, options: CloudUploadOptions = {}): Promise<CloudEntry> {
    const source = Buffer.isBuffer(input) ? Readable.from([input]) : input;
    const length = typeof source === 'string' ? (await stat(source)).size : Buffer.isBuffer(input) ? input.length : options.length;
    if (options.resumable) {
      if (length === undefined) throw new TypeError('FusionCloudAPIClient.upload: a resumable upload of a stream needs options.length');
      return this.#tusUpload(source, remotePath, length, options);
    }
    const body = typeof source === 'string' ? createReadStream(source) : source;
    const metered = body.pipe(progress(options.onProgress, 0, length ?? null));
    body.once('error', (error: Error) => metered.destroy(error));
    return this.#client.put<CloudEntry>(`/api/cloud/file/${encodeCloudPath(remotePath)}`, undefined, {
      query: { overwrite: options.overwrite ? 'true' : undefined },
      headers: { 'content-type': 'application/octet-stream', ...(length !== undefined ? { 'content-length': String(length) } : {}) },
      rawBody: metered,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  async #tusUpload(source: string | Readable, remotePath: string, length: number, options: CloudUploadOptions): Promise<CloudEntry> {
    const metadata = [`path ${Buffer.from(remotePath).toString('base64')}`, `overwrite ${Buffer.from(options.overwrite ? 'true' : 'false').toString('base64')}`].join(',');
    const created = await this.#client.requestRaw('POST', '/api/cloud/uploads/', {
      headers: { 'tus-resumable': TUS_VERSION, 'upload-length': String(length), 'upload-metadata': metadata },
      ...(options.signal ? { signal: options.signal } : {}),
    });
    await created.body.dump();
    const location = header(created, 'location');
    if (!location) throw clientError(created.statusCode, 'FUSION_ERR_BAD_RESPONSE', 'the tus creation answer has no Location', 'POST /api/cloud/uploads/');
    const uploadPath = new URL(location, 'http://x').pathname.replace(this.#client.options.basePath, '');
    return this.resumeUpload(uploadPath, source, length, options);
  }

  /**
   * Sends the rest of the tus upload at `uploadPath` (`/api/cloud/uploads/<id>`) from `source`,
   * asking the server for its offset first; resumes after a cut connection. Returns the entry.
   */
  async resumeUpload(uploadPath: string, source: string | Readable, length: number, options: CloudUploadOptions = {}): Promise<CloudEntry> {
    const chunkSize = options.chunkSize ?? 64 * 1024 * 1024;
    const retries = options.retries ?? 3;
    let failures = 0;
    let streamOffset = 0; // for a stream source: bytes consumed from it so far
    for (;;) {
      try {
        const head = await this.#client.requestRaw('HEAD', uploadPath, { headers: { 'tus-resumable': TUS_VERSION } });
        await head.body.dump();
        let offset = Number(header(head, 'upload-offset') ?? '0');
        while (offset < length) {
          const end = Math.min(length, offset + chunkSize);
          let body: Readable;
          if (typeof source === 'string') {
            body = createReadStream(source, { start: offset, end: end - 1 });
          } else {
            if (offset !== streamOffset) throw new TypeError(`FusionCloudAPIClient: cannot resume a stream upload at ${offset} (stream at ${streamOffset}): pass a local path`);
            body = takeBytes(source, end - offset);
            streamOffset = end;
          }
          const response = await this.#client.requestRaw('PATCH', uploadPath, {
            headers: { 'tus-resumable': TUS_VERSION, 'upload-offset': String(offset), 'content-type': 'application/offset+octet-stream', 'content-length': String(end - offset) },
            rawBody: options.onProgress ? body.pipe(progress(options.onProgress, offset, length)) : body,
            ...(options.signal ? { signal: options.signal } : {}),
          });
          const text = await response.body.text();
          offset = Number(header(response, 'upload-offset') ?? end);
          failures = 0;
          if (offset >= length) return (JSON.parse(text) as { data: CloudEntry }).data;
        }
        throw clientError(409, 'FUSION_ERR_CLOUD_UPLOAD', 'the upload is complete on the server but its entry was not returned', `PATCH ${uploadPath}`);
      } catch (error) {
        options.signal?.throwIfAborted();
        const retriable = isFusionClientError(error) && (error.code === 'FUSION_ERR_CONNECTION' || error.status >= 500);
        if (!retriable || ++failures > retries || typeof source !== 'string') throw error;
      }
    }
  }

  /** Downloads file `remotePath` to `localPath` (through a temporary file, renamed on success); resumes with Range. */
  async download(remotePath: string, localPath: string, options: CloudDownloadOptions = {}): Promise<{ path: string; bytes: number }> {
    return this.#toFile(`/api/cloud/file/${encodeCloudPath(remotePath)}`, localPath, options, true);
  }

  /** Downloads a zip of what the caller may read in `dir` to `localPath`. */
  async downloadZip(dir: string, localPath: string, options: CloudDownloadOptions = {}): Promise<{ path: string; bytes: number }> {
    return this.#toFile(`/api/cloud/zip/${encodeCloudPath(dir)}`, localPath, options, false);
  }

  async #toFile(url: string, localPath: string, options: CloudDownloadOptions, resumable: boolean): Promise<{ path: string; bytes: number }> {
    const target = resolve(localPath);
    const temporary = join(dirname(target), `.fusion-cloud-${randomBytes(6).toString('hex')}.part`);
    const handle = await open(temporary, 'wx');
    let closed = false;
    try {
      const bytes = await this.#fetchInto(url, handle, options, resumable);
      await handle.sync();
      closed = true;
      await handle.close();
      await rename(temporary, target);
      return { path: target, bytes };
    } catch (error) {
      if (!closed) await handle.close().catch(() => undefined);
      await rm(temporary, { force: true });
      throw error;
    }
  }

  async #fetchInto(url: string, handle: FileHandle, options: CloudDownloadOptions, resumable: boolean): Promise<number> {
    const retries = options.retries ?? 3;
    let written = 0;
    let total: number | null = null;
    let etag: string | undefined;
    let failures = 0;
    for (;;) {
      const headers: Record<string, string> = written > 0 && etag ? { range: `bytes=${written}-`, 'if-range': etag } : {};
      try {
        const response = await this.#client.requestRaw('GET', url, { headers, ...(options.signal ? { signal: options.signal } : {}) });
        if (written > 0 && response.statusCode !== 206) {
          await response.body.dump();
          throw clientError(response.statusCode, 'FUSION_ERR_CLOUD_NOT_FOUND', 'the file changed on the server while it was downloaded: download it again', `GET ${url}`);
        }
        etag ??= header(response, 'etag');
        const length = header(response, 'content-length');
        if (total === null && length !== undefined) total = written + Number(length);
        for await (const chunk of response.body as AsyncIterable<Buffer>) {
          await handle.write(chunk, 0, chunk.length, written);
          written += chunk.length;
          failures = 0;
          options.onProgress?.(written, total);
        }
        if (total !== null && written < total) throw clientError(0, 'FUSION_ERR_CONNECTION', 'the connection closed before the end of the file', `GET ${url}`);
        return written;
      } catch (error) {
        options.signal?.throwIfAborted();
        const cut = !isFusionClientError(error) || error.code === 'FUSION_ERR_CONNECTION';
        if (!resumable || !cut || etag === undefined || ++failures > retries) throw error;
      }
    }
  }
}

/** A stream of the next `count` bytes of `source` (which stays usable for the bytes after them). */
function takeBytes(source: Readable, count: number): Readable {
  let left = count;
  return Readable.from(
    (async function* () {
      while (left > 0) {
        const chunk = source.read() as Buffer | null;
        if (chunk === null) {
          if (source.readableEnded) return;
          await new Promise<void>((done) => {
            source.once('readable', done);
            source.once('end', done);
          });
          continue;
        }
        if (chunk.length > left) {
          source.unshift(chunk.subarray(left));
          yield chunk.subarray(0, left);
          left = 0;
        } else {
          left -= chunk.length;
          yield chunk;
        }
      }
    })(),
  );
}
