/**
 * Client twin of FusionDownloadAPI: fetches a one-time download into a file, through a temporary
 * file renamed on success, resuming with a Range request when the connection drops.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, rm, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { FusionClient, FusionRawResponse } from '../client.js';
import { FusionClientError, isFusionClientError } from '../errors.js';

/** Options of FusionDownloadAPIClient. */
export interface FusionDownloadAPIClientOptions {
  client: FusionClient;
}

/** Options of `download`. */
export interface DownloadOptions {
  /** Called after each chunk written: bytes so far, and the total when the server said it (null for a zipped directory). */
  onProgress?: (bytes: number, total: number | null) => void;
  /** Aborts the download; the temporary file is removed and the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Attempts in a row that may fail without bringing a new byte before giving up (default 3). */
  retries?: number;
  /** Delay before the first retry, in ms, doubled for each further one (default 200). */
  retryDelay?: number;
}

/** What `download` wrote. */
export interface DownloadResult {
  /** The final path (inside the output directory when one was given). */
  path: string;
  /** Bytes written. */
  bytes: number;
}

/** Request header presenting the resume token the first response carried (server: RESUME_TOKEN_HEADER). */
const RESUME_HEADER = 'x-fusion-resume-token';

function header(response: FusionRawResponse, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The file name a Content-Disposition header gives (`filename*` preferred), or null. */
export function filenameFromDisposition(value: string | undefined): string | null {
  if (!value) return null;
  const extended = /filename\*\s*=\s*([^']*)'[^']*'([^;\s]+)/i.exec(value);
  if (extended && /^utf-8$/i.test(extended[1]!)) {
    try {
      return decodeURIComponent(extended[2]!);
    } catch {
      // malformed percent-encoding: fall back to `filename`
    }
  }
  const plain = /(?:^|;)\s*filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]+))/i.exec(value);
  if (!plain) return null;
  return plain[1] !== undefined ? plain[1].replace(/\\(.)/g, '$1') : plain[2]!.trim();
}

/**
 * A server-given name made safe to create in a directory: only its last path segment, control
 * characters and `<>:"|?*` replaced by `_`, surrounding spaces and dots trimmed, at most 200
 * characters; `download` when nothing is left.
 */
export function safeFilename(name: string): string {
  const last = name.split(/[/\\]/).pop() ?? '';
  let out = '';
  for (const char of last) {
    const code = char.codePointAt(0)!;
    out += code < 0x20 || code === 0x7f || '<>:"|?*'.includes(char) ? '_' : char;
  }
  out = [...out.replace(/^[\s.]+|[\s.]+$/g, '')].slice(0, 200).join('');
  return out === '' ? 'download' : out;
}

function parseContentRange(value: string | undefined): { start: number; total: number | null } | null {
  const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(value ?? '');
  if (!match) return null;
  return { start: Number(match[1]), total: match[3] === '*' ? null : Number(match[3]) };
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      signal?.removeEventListener('abort', onAbort);
      resolvePromise();
    }
    function onAbort(): void {
      clearTimeout(timer);
      reject(signal?.reason);
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Fetches prepared downloads (PendingDownloadKey) from a Fusion service. */
export class FusionDownloadAPIClient {
  readonly #client: FusionClient;

  constructor(options: FusionDownloadAPIClientOptions) {
    if (!options?.client) throw new TypeError('FusionDownloadAPIClient: client is required');
    this.#client = options.client;
  }

  /**
   * GET /api/download/:guid/:token into `output`: a file path (its directory must exist), or an
   * existing directory (the file is named from Content-Disposition, made safe). Data goes to a
   * hidden `.fusion-download-*.part` file beside the target, fsynced and renamed on success,
   * removed on failure. A connection cut mid-body is resumed with `Range: bytes=N-` (and
   * If-Range) within the server's resume window; a zipped directory cannot be resumed.
   */
  async download(key: { guid: string; token: string }, output: string, options: DownloadOptions = {}): Promise<DownloadResult> {
    if (typeof key?.guid !== 'string' || typeof key.token !== 'string') {
      throw new TypeError('FusionDownloadAPIClient.download: key must be a PendingDownloadKey ({ guid, token })');
    }
    if (typeof output !== 'string' || output === '') throw new TypeError('FusionDownloadAPIClient.download: output must be a path');
    const retries = options.retries ?? 3;
    const retryDelay = options.retryDelay ?? 200;
    if (!Number.isInteger(retries) || retries < 0) throw new TypeError(`download: retries must be an integer >= 0, got ${String(retries)}`);
    if (typeof retryDelay !== 'number' || !(retryDelay >= 0)) throw new TypeError(`download: retryDelay must be >= 0 ms, got ${String(retryDelay)}`);
    options.signal?.throwIfAborted();
    const target = resolve(output);
    const intoDirectory = await stat(target).then((info) => info.isDirectory(), () => false);
    const temporary = join(intoDirectory ? target : dirname(target), `.fusion-download-${randomBytes(6).toString('hex')}.part`);
    const handle = await open(temporary, 'wx');
    let closed = false;
    try {
      const { bytes, filename } = await this.#fetch(key, handle, { ...options, retries, retryDelay });
      await handle.sync();
      closed = true;
      await handle.close();
      const path = intoDirectory ? join(target, safeFilename(filename ?? key.guid)) : target;
      await rename(temporary, path);
      return { path, bytes };
    } catch (error) {
      if (!closed) await handle.close().catch(() => undefined);
      await rm(temporary, { force: true });
      throw options.signal?.aborted ? options.signal.reason : error;
    }
  }

  async #fetch(
    key: { guid: string; token: string },
    handle: FileHandle,
    options: DownloadOptions & { retries: number; retryDelay: number },
  ): Promise<{ bytes: number; filename: string | null }> {
    const path = `/api/download/${key.guid}/${encodeURIComponent(key.token)}`;
    const endpoint = `GET /api/download/${key.guid}/…`;
    const { signal, onProgress } = options;
    let written = 0;
    let total: number | null = null;
    let filename: string | null = null;
    let resumeToken: string | undefined;
    let etag: string | undefined;
    let failures = 0;
    let writtenAtLastFailure = 0;
    for (;;) {
      const headers: Record<string, string> = { accept: 'application/octet-stream, application/json' };
      if (resumeToken !== undefined) {
        headers[RESUME_HEADER] = resumeToken;
        if (written > 0) headers.range = `bytes=${written}-`;
        if (written > 0 && etag !== undefined) headers['if-range'] = etag;
      }
      let response: FusionRawResponse;
      try {
        response = await this.#client.requestRaw('GET', path, { headers, ...(signal ? { signal } : {}) });
      } catch (error) {
        // Before any answer, only a resumable download may try again (the first GET spends the key).
        const transport = isFusionClientError(error) && error.status === 0;
        if (!transport || resumeToken === undefined || signal?.aborted || failures >= options.retries) throw error;
        failures++;
        await sleep(options.retryDelay * 2 ** (failures - 1), signal);
        continue;
      }
      if (response.statusCode === 206) {
        const range = parseContentRange(header(response, 'content-range'));
        if (range === null || range.start !== written) {
          response.body.destroy();
          const message = `${endpoint}: the server resumed at an unexpected place (${header(response, 'content-range') ?? 'no Content-Range'})`;
          throw new FusionClientError({ status: 206, code: 'FUSION_ERR_BAD_RESPONSE', message, endpoint });
        }
        total = range.total;
      } else {
        if (written > 0) await handle.truncate(0); // the file changed, or the server ignored the range: start over
        written = 0;
        const length = header(response, 'content-length');
        total = length === undefined ? null : Number(length);
      }
      if (resumeToken === undefined) {
        resumeToken = header(response, RESUME_HEADER);
        etag = header(response, 'etag');
        filename = filenameFromDisposition(header(response, 'content-disposition'));
      }
      try {
        for await (const chunk of response.body as AsyncIterable<Buffer>) {
          await handle.write(chunk, 0, chunk.length, written);
          written += chunk.length;
          onProgress?.(written, total);
        }
        if (total !== null && written < total) throw new Error(`the body ended after ${written} of ${total} bytes`);
        return { bytes: written, filename };
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        if (written > writtenAtLastFailure) failures = 0;
        writtenAtLastFailure = written;
        if (resumeToken === undefined || failures >= options.retries) {
          const detail = error instanceof Error ? error.message : String(error);
          const why = resumeToken === undefined ? 'the server offers no resume for it' : `${failures} retries brought nothing`;
          const message = `${endpoint}: the connection broke after ${written} bytes (${detail}) and ${why}: prepare a new download`;
          throw new FusionClientError({ status: 0, code: 'FUSION_ERR_CONNECTION', message, endpoint }, { cause: error });
        }
        failures++;
        await sleep(options.retryDelay * 2 ** (failures - 1), signal);
      }
    }
  }
}
