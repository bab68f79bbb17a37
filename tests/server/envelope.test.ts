import { describe, expect, it } from '@jest/globals';
import { Info } from '../../src/concept/index.js';
import { countOf, nestableSchema, successEnvelope, toWire } from '../../src/server/envelope.js';

describe('countOf (Python len())', () => {
  it('counts arrays, object keys and string code points', () => {
    expect(countOf([1, 2, 3])).toBe(3);
    expect(countOf({ a: 1, b: null })).toBe(2);
    expect(countOf('abc')).toBe(3);
    expect(countOf('h\u00e9\u{1F600}')).toBe(3); // the emoji is two UTF-16 units, one code point
    expect(countOf('')).toBe(0);
  });

  it('has no count for numbers, booleans and null', () => {
    expect(countOf(42)).toBeUndefined();
    expect(countOf(true)).toBeUndefined();
    expect(countOf(null)).toBeUndefined();
  });
});

describe('successEnvelope', () => {
  it('wraps concepts and arrays of concepts in their wire form', () => {
    const info = new Info({ api: 'demo', version: '1.0' });
    expect(successEnvelope(info)).toEqual({ status: 200, data: { api: 'demo', version: '1.0' }, count: 2 });
    expect(successEnvelope([info, info])).toEqual({ status: 200, data: [info.toJSON(), info.toJSON()], count: 2 });
    expect(toWire([1, info])).toEqual([1, { api: 'demo', version: '1.0' }]);
  });

  it('omits data and count for undefined, keeps null without count', () => {
    expect(successEnvelope(undefined)).toEqual({ status: 200 });
    expect(successEnvelope(null)).toEqual({ status: 200, data: null });
    expect(successEnvelope(7, 201)).toEqual({ status: 201, data: 7 });
  });
});

describe('nestableSchema', () => {
  it('drops root-only keywords', () => {
    expect(nestableSchema({ $schema: 'x', $id: 'y', type: 'object' })).toEqual({ type: 'object' });
  });
});
