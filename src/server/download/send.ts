/** Writes a download response: a file (whole or one byte range) or a directory zipped on the fly. */
import { close, createReadStream, fstat, open } from 'node:fs';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { FusionError } from '../../helper/errors.js';
import { zipStream } from '../../helper/zip.js';
import { contentDisposition } from './content-disposition.js';
import { ifRangeAllows, parseRange } from './range.js';
import type { RangeRequest } from './range.js';

/** Response header carrying the resume token to the client that made the first GET. */
export const RESUME_TOKEN_HEADER = 'x-fusion-resume-token';

/** A file opened for a download: its size, strong ETag, the range to send, and its descriptor's owner. */
export interface OpenedFile {
  size: number;
  etag: string;
  range: RangeRequest;
  /** A stream of bytes `start..end` (inclusive) that owns the descriptor from now on and closes it. */
  stream(start: number, end: number): Readable;
  /** Closes the descriptor unless a stream took it (once; later calls do nothing). */
  close(): Promise<void>;
}

const openFd = promisify(open);
const fstatFd = promisify(fstat);
const closeFd = promisify(close);

function gone(cause?: unknown): FusionError {
  return new FusionError('FUSION_ERR_DOWNLOAD_NOT_FOUND', 'the file of this download is no longer available: prepare a new download', {
    cause,
  });
}

/**
 * Opens `path` and reads what `request` asks of it (Range, If-Range). The size and ETag come
 * from the open descriptor, so the bytes sent are those of the file measured, even if the path
 * is replaced meanwhile. Call `close()` if you do not pass it to `sendFile`.
 */
export async function openForDownload(path: string, request: FastifyRequest): Promise<OpenedFile> {
  let fd: number;
  try {
    fd = await openFd(path, 'r');
  } catch (error) {
    throw gone(error);
  }
  let closed = false;
  const closeOnce = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await closeFd(fd).catch(() => undefined);
  };
  try {
    const info = await fstatFd(fd);
    if (!info.isFile()) throw gone();
    const etag = `"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}-${info.ino.toString(16)}"`;
    const rangeHeader = firstHeader(request.headers.range);
    const ifRange = firstHeader(request.headers['if-range']);
    const range = ifRangeAllows(ifRange, etag) ? parseRange(rangeHeader, info.size) : ({ kind: 'full' } as const);
    const stream = (start: number, end: number): Readable => {
      closed = true; // the stream closes the descriptor when it ends or is destroyed
      // A plain descriptor: fd-based streams read faster than FileHandle-based ones.
      return createReadStream('', { fd, start, end, autoClose: true, highWaterMark: 256 * 1024 });
    };
    return { size: info.size, etag, range, stream, close: closeOnce };
  } catch (error) {
    await closeOnce();
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
    void file.close();
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
  return reply.send(file.stream(start, end));
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
