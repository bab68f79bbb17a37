/**
 * The session cookie on the wire: reading one cookie from a `Cookie` header and writing the
 * `Set-Cookie` value. Kept here (rather than through @fastify/cookie) so that `authorize()`
 * can read the session of a request served by any API's plugin scope.
 */

/** Attributes of the session cookie, from `auth.cookie.*`. */
export interface CookieAttributes {
  name: string;
  domain: string | null;
  path: string;
  /** Lifetime in seconds; also the session's idle lifetime. */
  maxAge: number;
  secure: boolean;
  httpOnly: boolean;
  sameSite: 'strict' | 'lax' | 'none';
}

/** RFC 6265 cookie-name characters (an RFC 7230 token). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Characters an attribute value (domain, path) may not hold. */
const BAD_ATTRIBUTE = /[\u0000-\u001f\u007f;,]/; // eslint-disable-line no-control-regex
/** Characters a cookie value may hold unquoted (RFC 6265 cookie-octet). */
const COOKIE_VALUE = /^[\u0021\u0023-\u002b\u002d-\u003a\u003c-\u005b\u005d-\u007e]*$/;

/** True when `name` can be used as a cookie name. */
export function isCookieName(name: string): boolean {
  return TOKEN.test(name);
}

/** True when `value` can be used as a Domain or Path attribute. */
export function isCookieAttributeValue(value: string): boolean {
  return !BAD_ATTRIBUTE.test(value);
}

/**
 * Returns the value of cookie `name` in a `Cookie` header, or null. When the header carries the
 * name more than once (a parent-domain cookie shadowing ours), the first one is returned, as
 * browsers send the most specific path first.
 */
export function readCookie(header: string | string[] | undefined, name: string): string | null {
  if (header === undefined) return null;
  const text = Array.isArray(header) ? header.join('; ') : header;
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    return value;
  }
  return null;
}

/** Builds a `Set-Cookie` value giving the cookie `value` for `attributes.maxAge` seconds. */
export function serializeCookie(value: string, attributes: CookieAttributes): string {
  if (!COOKIE_VALUE.test(value)) throw new TypeError('cookie value holds characters a cookie cannot carry');
  return serialize(attributes, value, attributes.maxAge);
}

/** Builds a `Set-Cookie` value that makes the browser drop the cookie. */
export function clearCookie(attributes: CookieAttributes): string {
  return serialize(attributes, '', 0);
}

const SAME_SITE = { strict: 'Strict', lax: 'Lax', none: 'None' } as const;

function serialize(attributes: CookieAttributes, value: string, maxAge: number): string {
  const parts = [`${attributes.name}=${value}`, `Path=${attributes.path}`];
  if (attributes.domain !== null) parts.push(`Domain=${attributes.domain}`);
  parts.push(`Max-Age=${Math.max(0, Math.floor(maxAge))}`);
  if (maxAge <= 0) parts.push('Expires=Thu, 01 Jan 1970 00:00:00 GMT');
  if (attributes.httpOnly) parts.push('HttpOnly');
  // Browsers drop SameSite=None cookies that are not Secure: the config check enforces it.
  if (attributes.secure) parts.push('Secure');
  parts.push(`SameSite=${SAME_SITE[attributes.sameSite]}`);
  return parts.join('; ');
}
