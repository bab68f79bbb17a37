import { describe, expect, it } from '@jest/globals';
import type { CookieAttributes } from '../../../src/server/auth/cookie.js';
import { clearCookie, isCookieAttributeValue, isCookieName, readCookie, serializeCookie } from '../../../src/server/auth/cookie.js';

const attributes: CookieAttributes = {
  name: 'FUSION_SESSION',
  domain: null,
  path: '/',
  maxAge: 3600,
  secure: true,
  httpOnly: true,
  sameSite: 'lax',
};

describe('readCookie', () => {
  it('finds the named cookie among others', () => {
    expect(readCookie('a=1; FUSION_SESSION=abc; b=2', 'FUSION_SESSION')).toBe('abc');
    expect(readCookie('FUSION_SESSION=abc', 'FUSION_SESSION')).toBe('abc');
  });

  it('returns null when absent or without a header', () => {
    expect(readCookie(undefined, 'FUSION_SESSION')).toBeNull();
    expect(readCookie('', 'FUSION_SESSION')).toBeNull();
    expect(readCookie('FUSION_SESSIONX=abc; XFUSION_SESSION=def', 'FUSION_SESSION')).toBeNull();
    expect(readCookie('garbage;;;', 'FUSION_SESSION')).toBeNull();
  });

  it('takes the first of duplicates, strips quotes, joins array headers', () => {
    expect(readCookie('FUSION_SESSION=first; FUSION_SESSION=second', 'FUSION_SESSION')).toBe('first');
    expect(readCookie('FUSION_SESSION="quoted"', 'FUSION_SESSION')).toBe('quoted');
    expect(readCookie(['a=1', 'FUSION_SESSION=x'], 'FUSION_SESSION')).toBe('x');
  });
});

describe('serializeCookie / clearCookie', () => {
  it('writes every attribute', () => {
    expect(serializeCookie('tok', attributes)).toBe('FUSION_SESSION=tok; Path=/; Max-Age=3600; HttpOnly; Secure; SameSite=Lax');
    const custom = { ...attributes, domain: 'example.org', path: '/api', secure: false, httpOnly: false, sameSite: 'strict' as const };
    expect(serializeCookie('tok', custom)).toBe('FUSION_SESSION=tok; Path=/api; Domain=example.org; Max-Age=3600; SameSite=Strict');
  });

  it('clears with Max-Age=0 and a past Expires', () => {
    const text = clearCookie(attributes);
    expect(text).toMatch(/^FUSION_SESSION=; Path=\/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax$/);
  });

  it('refuses values a cookie cannot carry', () => {
    expect(() => serializeCookie('a;b', attributes)).toThrow(TypeError);
    expect(() => serializeCookie('a b', attributes)).toThrow(TypeError);
  });
});

describe('cookie name and attribute checks', () => {
  it('accepts tokens and refuses separators', () => {
    expect(isCookieName('FUSION_SESSION')).toBe(true);
    expect(isCookieName('bad name')).toBe(false);
    expect(isCookieName('bad;name')).toBe(false);
    expect(isCookieAttributeValue('/api')).toBe(true);
    expect(isCookieAttributeValue('/a;b')).toBe(false);
    expect(isCookieAttributeValue('/a\nb')).toBe(false);
  });
});
