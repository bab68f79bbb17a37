import { describe, expect, it } from '@jest/globals';
import { SessionCookieJar } from '../../src/client/cookie-jar.js';

describe('SessionCookieJar', () => {
  it('keeps only its cookie and sends it back', () => {
    const jar = new SessionCookieJar('FUSION_SESSION');
    jar.update(['other=1; Path=/', 'FUSION_SESSION=abc; Path=/; HttpOnly; SameSite=Lax']);
    expect(jar.header()).toBe('FUSION_SESSION=abc');
    expect(jar.value).toBe('abc');
  });

  it('drops the cookie on Max-Age=0, an empty value or a past Expires', () => {
    const jar = new SessionCookieJar('S');
    for (const clearing of ['S=; Max-Age=0', 'S=x; Max-Age=0', 'S=; Path=/', 'S=x; Expires=Thu, 01 Jan 1970 00:00:00 GMT']) {
      jar.update('S=abc');
      jar.update(clearing);
      expect(jar.header()).toBeUndefined();
    }
  });

  it('expires the cookie after Max-Age, which wins over Expires', () => {
    const jar = new SessionCookieJar('S');
    jar.update('S=abc; Expires=Thu, 01 Jan 2099 00:00:00 GMT; Max-Age=10', 1_000);
    expect(jar.header(10_999)).toBe('S=abc');
    expect(jar.header(11_000)).toBeUndefined();
    expect(jar.value).toBeNull();
  });

  it('unquotes a quoted value and ignores malformed lines', () => {
    const jar = new SessionCookieJar('S');
    jar.update(['garbage', 'S="q"']);
    expect(jar.header()).toBe('S=q');
    jar.clear();
    expect(jar.header()).toBeUndefined();
  });
});
