import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { hashSecret, newSecret, secretMatches, TOKEN_PATTERN } from '../../../src/server/download/secret.js';

describe('download secrets', () => {
  it('makes 22-character base64url secrets, different each time', () => {
    const a = newSecret();
    expect(a).toMatch(TOKEN_PATTERN);
    expect(a).toHaveLength(22);
    expect(newSecret()).not.toBe(a);
  });

  it('stores only the sha256 hex of a secret', () => {
    expect(hashSecret('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('compares equal-length digests: true only for the same secret', () => {
    const secret = newSecret();
    const stored = hashSecret(secret);
    expect(secretMatches(secret, stored)).toBe(true);
    // Same length, one character off: still compared as two 32-byte digests.
    expect(secretMatches(`${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`, stored)).toBe(false);
    expect(secretMatches('', stored)).toBe(false);
    expect(secretMatches(secret, hashSecret(`${secret}x`))).toBe(false);
  });

  it('compares false, without throwing, against a stored hash of the wrong form', () => {
    const secret = newSecret();
    for (const stored of [null, undefined, '', 'abc', hashSecret(secret).slice(0, 62), `${hashSecret(secret)}00`, hashSecret(secret).toUpperCase()]) {
      expect(secretMatches(secret, stored)).toBe(false);
    }
  });

  it('uses crypto.timingSafeEqual (constant time), never === on secrets', () => {
    const source = readFileSync('src/server/download/secret.ts', 'utf8');
    expect(source).toMatch(/timingSafeEqual\(candidate, Buffer\.from\(storedHash, 'hex'\)\)/);
    const impl = readFileSync('src/server/download/impl.ts', 'utf8');
    expect(impl).not.toMatch(/(token|Hash|presented)\s*===/);
  });
});
