/** Writes a download response: a file (whole or one byte range) or a directory zipped on the fly. */
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { FusionError } from '../../helper/errors.js';
import { zipStream } from '../../helper/zip.js';
import { contentDisposition } from './content-disposition.js';
import { ifRangeAllows, parseRange } from './range.js';
import type { RangeRequest } from './range.js';

/** Response header carrying the resume token to the client that made the first GET. */
export const RESUME_TOKEN_HEADER = 'x-fusion-resume-token';

/** A file opened for a download: the handle, its size, its strong ETag, and the range to send. */
export interface OpenedFile {
  handle: FileHandle;
  size: number;
  etag: string;
  range: RangeRequest;
}

function gone(cause?: unknown): FusionError {
  return new FusionError('FUSION_ERR_DOWNLOAD_NOT_FOUND', 'the file of this download is no longer available: prepare a new download', {
    cause,
  });
}

/**
 * Opens `path` and reads what `request` asks of it (Range, If-Range). The size and ETag come
 * from the open handle, so the bytes sent are those of the file measured, even if the path
 * is replaced meanwhile. Close the handle if you do not pass it to `sendFile`.
 */
export async function openForDownload(path: string, request: FastifyRequest): Promise<OpenedFile> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw gone(error);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw gone();
    const etag = `"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}-${info.ino.toString(16)}"`;
    const rangeHeader = firstHeader(request.headers.range);
    const ifRange = firstHeader(request.headers['if-range']);
    const range = ifRangeAllows(ifRange, etag) ? parseRange(rangeHeader, info.size) : ({ kind: 'full' } as const);
    return { handle, size: info.size, etag, range };
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function commonHeaders(reply: FastifyReply, filename: string): void {
  reply.header('content-type', 'application/octet-stream');
  reply.header('content-disposition', contentDisposition(filename));
  reply.header('cache-control', 'no-store');
  reply.header('x-content-type-options', 'nosniff');
}

/** The 416 answer's Content-Range, to set before raising FUSION_ERR_RANGE_NOT_SATISFIABLE. */
export function unsatisfiable(reply: FastifyReply, size: number): FusionError {
  reply.header('content-range', `bytes */${size}`);
  return new FusionError('FUSION_ERR_RANGE_NOT_SATISFIABLE', `the requested range is outside the file (${size} bytes): ask for bytes 0-${Math.max(0, size - 1)}`);
}

/** Sends `file` (its range when partial) with Content-Length, Content-Disposition and Accept-Ranges. */
export function sendFile(reply: FastifyReply, file: OpenedFile, filename: string, extraHeaders: Record<string, string> = {}): FastifyReply {
  commonHeaders(reply, filename);
  reply.header('accept-ranges', 'bytes');
  reply.header('etag', file.etag);
  for (const [name, value] of Object.entries(extraHeaders)) reply.header(name, value);
  const { size, range } = file;
  if (size === 0) {
    void file.handle.close().catch(() => undefined);
    return reply.code(200).header('content-length', '0').send(Buffer.alloc(0));
  }
  const start = range.kind === 'partial' ? range.start : 0;
  const end = range.kind === 'partial' ? range.end : size - 1;
  if (range.kind === 'partial') {
    reply.code(206).header('content-range', `bytes ${start}-${end}/${size}`);
  } else {
    reply.code(200);
  }
  reply.header('content-length', String(end - start + 1));
  return reply.send(file.handle.createReadStream({ start, end, autoClose: true }));
}

/** Sends a zip of `directory`, built while it is sent (no temporary file, no length, no ranges). */
export async function sendDirectory(reply: FastifyReply, directory: string, filename: string): Promise<FastifyReply> {
  let stream;
  try {
    stream = await zipStream(directory);
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT' || (error as { cause?: { code?: unknown } }).cause?.code === 'ENOENT') throw gone(error);
    throw error;
  }
  commonHeaders(reply, filename);
  reply.header('accept-ranges', 'none');
  return reply.code(200).send(stream);
}
