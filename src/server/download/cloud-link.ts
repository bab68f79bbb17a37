/**
 * One-time links to cloud files. The pending row holds the cloud path (kind `cloud`), not a local
 * file, and its GET streams from the cloud driver: with the S3 driver a link prepared on one
 * instance is served by any instance sharing the database. The cloud API is found with
 * `host.findApi` when a link is asked for or served (it is mounted after the download API).
 */
import { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import { FusionError, isFusionError } from '../../helper/errors.js';
import { baseName, parsePlainPath } from '../cloud/cloud-path.js';
import { FusionCloudAPI } from '../cloud/impl.js';
import type { FusionHost } from '../host.js';
import { ifRangeAllows, parseRange } from './range.js';
import type { OpenedFile } from './send.js';

/** The route prefix of link requests: `POST /api/cloud/link/<path>`. */
export const CLOUD_LINK_PREFIX = '/api/cloud/link';

/** The mounted cloud API; FUSION_ERR_UNAVAILABLE (503) when this server has none. */
export function cloudApiOf(host: FusionHost): FusionCloudAPI {
  const cloud = host.findApi(FusionCloudAPI);
  if (cloud === undefined) {
    throw new FusionError('FUSION_ERR_UNAVAILABLE', 'this server has no cloud API: links to cloud files need the `cloud` section (or a FusionCloudAPI) mounted');
  }
  return cloud;
}

/** The checked cloud path of `path` and the file name a link to it is sent as. */
export function cloudTarget(path: string): { path: string; filename: string } {
  const checked = parsePlainPath(path).path;
  return { path: checked, filename: baseName(checked) };
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function gone(path: string): FusionError {
  return new FusionError('FUSION_ERR_DOWNLOAD_NOT_FOUND', `the cloud file /${path} of this download is no longer available: prepare a new download`);
}

/**
 * The cloud file at `path` opened for a download answer, as `openForDownload` opens a local one:
 * size and bytes of one version (the driver's open content: a descriptor, or the S3 object's ETag
 * read with If-Match), its ETag the sha256 of its row when that row describes the version (as
 * `GET /api/cloud/file` sends it; a weak one otherwise, which no If-Range matches), the range
 * `request` asks for.
 */
export async function openCloudForDownload(host: FusionHost, path: string, request: FastifyRequest): Promise<OpenedFile> {
  const cloud = cloudApiOf(host);
  let opened: Awaited<ReturnType<FusionCloudAPI['openVersion']>>;
  try {
    opened = await cloud.openVersion(path);
  } catch (error) {
    if (isFusionError(error) && error.code === 'FUSION_ERR_CLOUD_NOT_FOUND') throw gone(path);
    throw error;
  }
  const { content, entry } = opened;
  if (entry === null || entry.type !== 'file') {
    await content.close();
    throw gone(path);
  }
  const etag = opened.etag ?? `W/"${content.size}"`;
  const range = ifRangeAllows(firstHeader(request.headers['if-range']), etag)
    ? parseRange(firstHeader(request.headers.range), content.size)
    : ({ kind: 'full' } as const);
  const stream = (start: number, end: number): Readable =>
    Readable.from(
      (async function* () {
        const body = await content.read({ start, end });
        try {
          yield* body as AsyncIterable<Buffer>;
        } finally {
          body.destroy();
        }
      })(),
      { objectMode: false },
    );
  return { size: content.size, etag, range, stream, close: () => content.close() };
}
