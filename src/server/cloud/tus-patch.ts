/**
 * The tus 1.0 PATCH, served without @tus/server's round trip through web streams (it wraps the
 * Node request in a web Request, copies every chunk into a web ReadableStream, then turns it back
 * into a Node stream and pipes it through two more streams: about 3 s of CPU per GB). The
 * request's body goes straight to the store: into the hashing file sink for the local store,
 * through one size limiter for the others. Everything else is PatchHandler's, in its order: the
 * upload's lock (asked to let go, it ends the write `lockDrainTimeout` ms later), the upload read
 * under it, expiry (410, `cloud.upload_expiry`), the offset (409), the body's size against the upload's (413), the
 * write synced before the new offset is answered, `onFinish` on the last byte, and tus' headers.
 * Only well-formed PATCHes come here (`isPlainPatch`): tus answers the others, to the letter.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PassThrough } from 'node:stream';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ERRORS, EXPOSED_HEADERS, StreamLimiter, TUS_RESUMABLE } from '@tus/server';
import type { DataStore, Locker, Upload } from '@tus/server';
import { HashingFileStore } from './tus-file-store.js';

/** An answer of the tus endpoint (the shape of tus' hook results and errors). */
export interface TusAnswer {
  status_code: number;
  body: string;
  headers?: Record<string, string>;
}

/** What the PATCH needs from the tus mount. */
export interface TusPatchOptions {
  datastore: DataStore;
  locker: Locker;
  /** Largest upload in bytes (0: no limit), as tus' `maxSize`. */
  maxSize: number;
  /** Milliseconds a holder asked to release the lock may still write (tus' `lockDrainTimeout`). */
  lockDrainTimeout: number;
  /** Milliseconds after its creation an unfinished upload expires (0: never): 410, and Upload-Expires in answers. */
  expiration: number;
  /** Commits the upload whose last byte just arrived; its answer is the PATCH's. */
  onFinish(upload: Upload): Promise<TusAnswer>;
  /** The answer to a failure (tus' errors and ours). */
  errorAnswer(error: unknown): TusAnswer;
}

/** Headers tus validates that a plain PATCH does not carry (their presence sends it to tus). */
const OTHER_TUS_HEADERS = ['upload-length', 'upload-defer-length', 'upload-metadata', 'upload-concat', 'x-forwarded-proto', 'tus-version'];

/** Whether `request` is a PATCH this module serves: tus 1.0.0, the offset content type, a valid offset, nothing else of tus'. */
export function isPlainPatch(request: IncomingMessage): boolean {
  const headers = request.headers;
  if (request.method !== 'PATCH' || headers['tus-resumable'] !== TUS_RESUMABLE || headers['content-type'] !== 'application/offset+octet-stream') return false;
  const offset = headers['upload-offset'];
  if (typeof offset !== 'string' || !/^(0|[1-9]\d{0,15})$/.test(offset) || !Number.isSafeInteger(Number(offset))) return false;
  return OTHER_TUS_HEADERS.every((name) => headers[name] === undefined);
}

/** tus' request context: `abort` ends the write now, `cancel` (the lock is wanted elsewhere) after the drain delay. */
class PatchContext {
  readonly #controller = new AbortController();
  readonly #drain: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(drain: number) {
    this.#drain = drain;
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  abort(): void {
    if (!this.signal.aborted) this.#controller.abort(ERRORS.ABORTED);
  }

  cancel(): void {
    this.#timer ??= setTimeout(() => this.abort(), this.#drain);
  }

  /** Clears the drain timer (the request is over). */
  dispose(): void {
    clearTimeout(this.#timer);
  }
}

/** Serves the PATCH `request` of upload `id` (the store's id) on `response`. */
export async function servePatch(options: TusPatchOptions, request: IncomingMessage, response: ServerResponse, id: string): Promise<void> {
  const context = new PatchContext(options.lockDrainTimeout);
  const onRequestError = (): void => context.abort();
  request.once('error', onRequestError);
  let answer: TusAnswer;
  try {
    answer = await patch(options, request, id, context);
  } catch (error) {
    context.abort();
    answer = options.errorAnswer(error);
  } finally {
    context.dispose();
    request.off('error', onRequestError);
  }
  send(response, answer, context.signal.aborted);
}

async function patch(options: TusPatchOptions, request: IncomingMessage, id: string, context: PatchContext): Promise<TusAnswer> {
  const { datastore } = options;
  const offset = Number(request.headers['upload-offset']);
  const lock = options.locker.newLock(id);
  await lock.lock(context.signal, () => context.cancel());
  let upload: Upload;
  let written: number;
  try {
    upload = await datastore.getUpload(id);
    if (options.expiration > 0 && Date.now() > creationOf(upload) + options.expiration) throw ERRORS.FILE_NO_LONGER_EXISTS;
    if (upload.offset !== offset) throw ERRORS.INVALID_OFFSET;
    written = await writeBody(datastore, request, upload, maxBodySize(request, upload, options.maxSize), context.signal);
  } finally {
    await lock.unlock();
  }
  upload.offset = written;
  const headers: Record<string, string> = { 'Upload-Offset': String(written) };
  if (written === upload.size) {
    const finished = await options.onFinish(upload);
    return { status_code: finished.status_code, body: finished.body, headers: { ...headers, ...finished.headers } };
  }
  if (options.expiration > 0 && upload.creation_date) headers['Upload-Expires'] = new Date(creationOf(upload) + options.expiration).toUTCString();
  return { status_code: 204, body: '', headers };
}

function creationOf(upload: Upload): number {
  return upload.creation_date ? new Date(upload.creation_date).getTime() : Date.now();
}

/** The most bytes this PATCH may carry (tus' calculateMaxBodySize; lengths are never deferred here). */
function maxBodySize(request: IncomingMessage, upload: Upload, maxSize: number): number {
  const lengthHeader = request.headers['content-length'];
  const length = lengthHeader === undefined ? 0 : Number.parseInt(lengthHeader, 10);
  if (upload.sizeIsDeferred) {
    if (lengthHeader !== undefined && maxSize > 0 && upload.offset + length > maxSize) throw ERRORS.ERR_SIZE_EXCEEDED;
    return maxSize > 0 ? maxSize - upload.offset : Number.MAX_SAFE_INTEGER;
  }
  if (upload.offset + length > (upload.size ?? 0)) throw ERRORS.ERR_SIZE_EXCEEDED;
  return lengthHeader === undefined ? (upload.size ?? 0) - upload.offset : length;
}

/** Writes the body at the upload's offset; a failing request or `signal` ends it gracefully (what arrived is kept). */
async function writeBody(datastore: DataStore, request: IncomingMessage, upload: Upload, limit: number, signal: AbortSignal): Promise<number> {
  if (signal.aborted) throw ERRORS.ABORTED;
  if (datastore instanceof HashingFileStore) return datastore.append(request, upload.id, upload.offset, limit, signal);
  // Other stores as tus feeds them: through a proxy that is ended, not destroyed, when the request fails.
  const proxy = new PassThrough();
  const end = (): void => {
    request.unpipe(proxy);
    if (!proxy.destroyed && !proxy.writableEnded) proxy.end();
  };
  const closed = (): void => {
    if (!request.readableEnded) end();
  };
  signal.addEventListener('abort', end, { once: true });
  request.once('close', closed);
  let written = upload.offset;
  try {
    request.pipe(proxy);
    const limiter = new StreamLimiter(limit);
    // pipeline hands the function the limiter itself (typed as an AsyncIterable), as tus' own PATCH relies on.
    await pipeline(proxy, limiter, async (source: AsyncIterable<Buffer>) => {
      written = await datastore.write(source as Readable, upload.id, upload.offset);
    });
    return written;
  } catch (error) {
    throw error instanceof Error && error.name === 'AbortError' ? ERRORS.ABORTED : error;
  } finally {
    request.unpipe(proxy);
    request.off('close', closed);
    signal.removeEventListener('abort', end);
  }
}

/** Writes `answer` with tus' headers (Connection: close after an aborted request, as tus does). */
function send(response: ServerResponse, answer: TusAnswer, aborted: boolean): void {
  if (response.headersSent || response.destroyed) return;
  const headers: Record<string, string> = {
    'Tus-Resumable': TUS_RESUMABLE,
    'Access-Control-Allow-Origin': '*',
    'Access-Control-Expose-Headers': EXPOSED_HEADERS,
    ...answer.headers,
  };
  const status = answer.status_code;
  const body = status === 204 || status === 205 || status === 304 ? null : answer.body;
  if (body !== null) {
    headers['Content-Length'] = String(Buffer.byteLength(body, 'utf8'));
    if (!Object.keys(headers).some((name) => name.toLowerCase() === 'content-type')) headers['Content-Type'] = body.startsWith('{') ? 'application/json' : 'text/plain;charset=UTF-8';
  }
  if (aborted) headers.Connection = 'close';
  response.writeHead(status, headers);
  response.end(body ?? undefined);
}
