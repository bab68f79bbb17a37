/**
 * Cloud paths: `/`-separated, relative to the cloud root, percent-encoded per segment in URLs.
 * Parsed from the raw request URL (never from a router-decoded param) so encoded slashes and
 * dot segments are seen as sent. Any doubtful form is refused with 400 FUSION_ERR_CLOUD_PATH
 * before anything is read or written.
 */
import { FusionError } from '../../helper/errors.js';

/** Longest segment, in UTF-8 bytes (the common file-system limit). */
export const MAX_SEGMENT_BYTES = 255;
/** Most segments in one path. */
export const MAX_DEPTH = 64;

/** Names the drivers keep for themselves (staging, partial uploads). */
export const RESERVED_PREFIX = '.fusion-';

/** A checked path: its segments and its canonical form (`a/b/c`, `''` for the root). */
export interface CloudPath {
  readonly segments: readonly string[];
  /** `a/b/c` without leading or trailing slash; `''` is the root. */
  readonly path: string;
}

function refuse(problem: string): FusionError {
  return new FusionError('FUSION_ERR_CLOUD_PATH', `bad cloud path: ${problem}`);
}

/** Checks one decoded segment; throws FUSION_ERR_CLOUD_PATH naming the problem. */
export function checkSegment(segment: string): string {
  if (segment === '') throw refuse('empty segment (two slashes in a row?)');
  if (segment === '.' || segment === '..') throw refuse(`'${segment}' segments are not allowed`);
  if (segment.includes('/')) throw refuse('encoded slash (%2F) inside a segment');
  if (segment.includes('\\')) throw refuse('backslash in a segment');
  if (segment.includes('\0')) throw refuse('NUL byte in a segment');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(segment)) throw refuse('control character in a segment');
  if (segment.startsWith(RESERVED_PREFIX)) throw refuse(`names starting with '${RESERVED_PREFIX}' are reserved for the server`);
  if (Buffer.byteLength(segment, 'utf8') > MAX_SEGMENT_BYTES) throw refuse(`segment longer than ${MAX_SEGMENT_BYTES} bytes`);
  return segment;
}

/** Builds a CloudPath from decoded segments, checking each. */
export function cloudPathOf(segments: readonly string[]): CloudPath {
  if (segments.length > MAX_DEPTH) throw refuse(`deeper than ${MAX_DEPTH} segments`);
  const checked = segments.map(checkSegment);
  return { segments: checked, path: checked.join('/') };
}

/** `text` without its one leading and one trailing slash; refuses backslashes and `//` starts. */
function trimSlashes(text: string): string {
  if (text.includes('\\')) throw refuse('backslash in the path');
  if (text.startsWith('//')) throw refuse('absolute path');
  const start = text.startsWith('/') ? 1 : 0;
  const end = text.length > start && text.endsWith('/') ? text.length - 1 : text.length;
  return text.slice(start, end);
}

/**
 * Parses a path as written in a URL after its route prefix (percent-encoded segments, optional
 * leading slash, optional trailing slash for directories). The empty string is the root.
 */
export function parseEncodedPath(encoded: string): CloudPath {
  const text = trimSlashes(encoded);
  if (text === '') return { segments: [], path: '' };
  const segments = text.split('/').map((raw) => {
    if (/%(?![0-9a-fA-F]{2})/.test(raw)) throw refuse('malformed percent-encoding');
    try {
      return decodeURIComponent(raw);
    } catch {
      throw refuse('malformed percent-encoding');
    }
  });
  return cloudPathOf(segments);
}

/** Parses a plain path (as in tus metadata or a service's call): `/a/b`, `a/b`; no percent-decoding. */
export function parsePlainPath(plain: string): CloudPath {
  if (typeof plain !== 'string') throw refuse('expected a string');
  const text = trimSlashes(plain);
  if (text === '') return { segments: [], path: '' };
  return cloudPathOf(text.split('/'));
}

/**
 * The path after `prefix` in a raw request URL (`request.raw.url`, query removed), parsed.
 * `/api/cloud/file/a%20b/c` with prefix `/api/cloud/file` gives `a b/c`.
 */
export function pathFromUrl(rawUrl: string, prefix: string): CloudPath {
  const query = rawUrl.indexOf('?');
  const pathname = query === -1 ? rawUrl : rawUrl.slice(0, query);
  if (!pathname.startsWith(prefix)) throw refuse(`expected a URL under ${prefix}`);
  const rest = pathname.slice(prefix.length);
  if (rest !== '' && !rest.startsWith('/')) throw refuse(`expected a URL under ${prefix}/`);
  return parseEncodedPath(rest);
}

/** The parent of `path` (the root's parent is the root). */
export function parentOf(path: CloudPath): CloudPath {
  const segments = path.segments.slice(0, -1);
  return { segments, path: segments.join('/') };
}

/** `path` and every ancestor up to the root, nearest first (`a/b` gives `a/b`, `a`, ``). */
export function selfAndAncestors(path: string): string[] {
  const out = [path];
  let current = path;
  while (current !== '') {
    const cut = current.lastIndexOf('/');
    current = cut === -1 ? '' : current.slice(0, cut);
    out.push(current);
  }
  return out;
}

/** The last segment of `path` (`''` for the root). */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Percent-encodes each segment of `path` for a URL. */
export function encodePath(path: string): string {
  return path === '' ? '' : path.split('/').map(encodeURIComponent).join('/');
}
