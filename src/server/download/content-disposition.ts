/** The Content-Disposition header of a download: a safe ASCII `filename` and, when needed, `filename*`. */

/** Characters RFC 8187 lets through unencoded in `filename*` (attr-char). */
const ATTR_CHAR = /[A-Za-z0-9!#$&+\-.^_`|~]/;

/**
 * A file name fit for a header and for a client's disk: control characters (CR, LF, NUL...),
 * quotes, backslashes and path separators are replaced by `_`, leading/trailing spaces and
 * dots trimmed; an empty result becomes `download`.
 */
export function sanitizeFilename(name: string): string {
  let replaced = '';
  for (const char of String(name)) {
    const code = char.codePointAt(0)!;
    replaced += code < 0x20 || code === 0x7f || char === '"' || char === '\\' || char === '/' ? '_' : char;
  }
  const cleaned = replaced.replace(/^[\s.]+|[\s.]+$/g, '');
  return cleaned === '' ? 'download' : cleaned;
}

/** RFC 8187 encoding of `text` for `filename*=UTF-8''...`. */
function encodeExtended(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const char = String.fromCharCode(byte);
    out += byte < 0x80 && ATTR_CHAR.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * `attachment; filename="..."` for `name` (sanitized). A name that is not plain printable
 * ASCII gets an ASCII fallback (other characters as `_`) in `filename` and the exact name in
 * `filename*=UTF-8''...` (RFC 6266), which browsers and our client prefer.
 */
export function contentDisposition(name: string): string {
  const safe = sanitizeFilename(name);
  const ascii = safe.replace(/[^\u0020-\u007e]/g, '_');
  const header = `attachment; filename="${ascii}"`;
  return ascii === safe ? header : `${header}; filename*=UTF-8''${encodeExtended(safe)}`;
}
