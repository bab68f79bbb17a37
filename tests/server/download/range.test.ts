import { describe, expect, it } from '@jest/globals';
import { ifRangeAllows, parseRange } from '../../../src/server/download/range.js';

describe('parseRange', () => {
  it('reads one range: closed, open-ended, suffix; clips past the end', () => {
    expect(parseRange('bytes=0-9', 100)).toEqual({ kind: 'partial', start: 0, end: 9 });
    expect(parseRange('bytes=90-', 100)).toEqual({ kind: 'partial', start: 90, end: 99 });
    expect(parseRange('bytes=-10', 100)).toEqual({ kind: 'partial', start: 90, end: 99 });
    expect(parseRange('bytes=-500', 100)).toEqual({ kind: 'partial', start: 0, end: 99 });
    expect(parseRange('bytes=95-500', 100)).toEqual({ kind: 'partial', start: 95, end: 99 });
    expect(parseRange('BYTES=1-1', 100)).toEqual({ kind: 'partial', start: 1, end: 1 });
  });

  it('finds nothing to send at or past the end, for bytes=-0, and in an empty file', () => {
    for (const header of ['bytes=100-', 'bytes=100-200', 'bytes=-0']) expect(parseRange(header, 100)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=0-', 0)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=-5', 0)).toEqual({ kind: 'unsatisfiable' });
  });

  it('ignores what RFC 9110 lets a server ignore: no header, malformed, other units, lists', () => {
    for (const header of [undefined, '', 'bytes=', 'bytes=-', 'bytes=5-2', 'bytes=a-b', 'items=0-1', 'bytes=0-1,3-4', `bytes=${'9'.repeat(30)}-`]) {
      expect(parseRange(header, 100)).toEqual({ kind: 'full' });
    }
  });
});

describe('ifRangeAllows', () => {
  it('allows the range only for the same strong ETag', () => {
    expect(ifRangeAllows(undefined, '"a"')).toBe(true);
    expect(ifRangeAllows('"a"', '"a"')).toBe(true);
    expect(ifRangeAllows('"b"', '"a"')).toBe(false);
    expect(ifRangeAllows('W/"a"', '"a"')).toBe(false);
    expect(ifRangeAllows('Wed, 21 Oct 2015 07:28:00 GMT', '"a"')).toBe(false);
  });
});
