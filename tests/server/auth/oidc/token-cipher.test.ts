/** AES-256-GCM sealing of session tokens: round trip, rotation, tampering, wrong context, key parsing. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { TokenCipher, parseTokenKey } from '../../../../src/server/auth/backend/oidc/token-cipher.js';

const oldKey = randomBytes(32);
const newKey = randomBytes(32);

describe('TokenCipher', () => {
  it('seals with the first key and opens with any, bound to its context', () => {
    const old = new TokenCipher([oldKey]);
    const sealed = old.seal('secret token', 'ctx');
    expect(sealed).not.toContain('secret');
    expect(old.seal('secret token', 'ctx')).not.toBe(sealed); // a new IV each time
    expect(old.open(sealed, 'ctx')).toBe('secret token');
    expect(old.open(sealed, 'other ctx')).toBeNull();
    const rotated = new TokenCipher([newKey, oldKey]);
    expect(rotated.open(sealed, 'ctx')).toBe('secret token');
    expect(rotated.isStale(sealed)).toBe(true);
    expect(rotated.isStale(rotated.seal('x', 'ctx'))).toBe(false);
    expect(new TokenCipher([newKey]).open(sealed, 'ctx')).toBeNull();
  });

  it('refuses altered or malformed values', () => {
    const cipher = new TokenCipher([oldKey]);
    const parts = cipher.seal('secret token', 'ctx').split('.');
    const body = Buffer.from(parts[3]!, 'base64url');
    body[0] = body[0]! ^ 1;
    expect(cipher.open([...parts.slice(0, 3), body.toString('base64url'), parts[4]].join('.'), 'ctx')).toBeNull();
    expect(cipher.open('v1.x.y', 'ctx')).toBeNull();
    expect(cipher.open('secret token', 'ctx')).toBeNull();
  });

  it('parses base64 and base64url 32-byte keys only', () => {
    expect(parseTokenKey(oldKey.toString('base64'))?.equals(oldKey)).toBe(true);
    expect(parseTokenKey(oldKey.toString('base64url'))?.equals(oldKey)).toBe(true);
    expect(parseTokenKey(randomBytes(16).toString('base64'))).toBeNull();
    expect(parseTokenKey('not a key')).toBeNull();
    expect(() => new TokenCipher([])).toThrow(RangeError);
  });
});
