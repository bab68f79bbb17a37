import { describe, expect, it } from '@jest/globals';
import { ApiKeyMatcher } from '../../../src/server/auth/api-keys.js';

describe('ApiKeyMatcher', () => {
  const matcher = new ApiKeyMatcher([
    { name: 'collector', key: 'k'.repeat(32) },
    { name: 'analyzer', key: 'a-different-key-of-some-length' },
  ]);

  it('maps a key to its client name', () => {
    expect(matcher.size).toBe(2);
    expect(matcher.match('k'.repeat(32))).toBe('collector');
    expect(matcher.match('a-different-key-of-some-length')).toBe('analyzer');
  });

  it('refuses unknown, empty, prefix and longer keys', () => {
    expect(matcher.match('')).toBeNull();
    expect(matcher.match('k'.repeat(31))).toBeNull();
    expect(matcher.match('k'.repeat(33))).toBeNull();
    expect(matcher.match('K'.repeat(32))).toBeNull();
  });

  it('matches nothing without clients', () => {
    expect(new ApiKeyMatcher([]).match('anything')).toBeNull();
  });
});
