/** HTTP Range for downloads: one byte range (`bytes=a-b`, `bytes=a-`, `bytes=-n`), as RFC 9110 says. */

/** What a Range header asks of a representation of `size` bytes. */
export type RangeRequest =
  /** No usable Range: send everything (200). Also for malformed or multi-range headers, which RFC 9110 lets a server ignore. */
  | { kind: 'full' }
  /** Send bytes `start..end` inclusive (206, `Content-Range: bytes start-end/size`). */
  | { kind: 'partial'; start: number; end: number }
  /** Nothing of the representation is in the range (416, `Content-Range: bytes *\/size`). */
  | { kind: 'unsatisfiable' };

const SINGLE = /^bytes=(\d*)-(\d*)$/i;

/**
 * Reads a Range header against a representation of `size` bytes. Only one range is served: a
 * list (`bytes=0-1,5-6`) is answered in full. `bytes=a-b` past the end is clipped; a first
 * byte at or past the end, or `bytes=-0`, is unsatisfiable.
 */
export function parseRange(header: string | undefined, size: number): RangeRequest {
  if (header === undefined) return { kind: 'full' };
  const match = SINGLE.exec(header.trim());
  if (!match) return { kind: 'full' };
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return { kind: 'full' };
  if (first === '') {
    const suffix = Number(last);
    if (!Number.isSafeInteger(suffix)) return { kind: 'full' };
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? Number.MAX_SAFE_INTEGER : Number(last);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end < start) return { kind: 'full' };
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start, end: Math.min(end, size - 1) };
}

/**
 * RFC 9110 If-Range: a Range applies only while the representation still has the validator
 * the client saw. Here that is a strong ETag; anything else (a date, a weak tag) disables it.
 */
export function ifRangeAllows(ifRange: string | undefined, etag: string): boolean {
  if (ifRange === undefined) return true;
  const value = ifRange.trim();
  return !value.startsWith('W/') && value === etag;
}
