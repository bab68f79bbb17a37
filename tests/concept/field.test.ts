import { describe, expect, it } from '@jest/globals';
import { ConceptError, defineConcept, field } from '../../src/concept/index.js';

const Sample = defineConcept('Sample', {
  id: field.uuid(),
  at: field.datetime(),
  code: field.string({ minLength: 2, maxLength: 4, pattern: /^[a-z😀]+$/u }),
  count: field.integer({ min: 0, max: 10 }).default(0),
  ratio: field.number().default(0.5),
  flag: field.boolean().default(false),
  meta: field.record(field.integer()).default({}),
  maybe: field.array(field.string().optional()).default([]),
  blob: field.json().optional(),
});

const base = { id: '0f6c2d9a-3b1e-4f5a-9c8d-7e6f5a4b3c2d', at: '2024-11-02T09:30:00Z', code: 'abc' };

function message(data: unknown): string {
  try {
    Sample.fromJSON(data);
  } catch (error) {
    expect(error).toBeInstanceOf(ConceptError);
    return (error as Error).message;
  }
  return 'no error';
}

describe('field kinds', () => {
  it('uuid accepts any case and stores lowercase', () => {
    expect(Sample.fromJSON({ ...base, id: '0F6C2D9A-3B1E-4F5A-9C8D-7E6F5A4B3C2D' }).id).toBe('0f6c2d9a-3b1e-4f5a-9c8d-7e6f5a4b3c2d');
    expect(message({ ...base, id: '{0f6c2d9a-3b1e-4f5a-9c8d-7e6f5a4b3c2d}' })).toMatch(/^Sample\.id: expected UUID/);
    expect(message({ ...base, id: 'zf6c2d9a-3b1e-4f5a-9c8d-7e6f5a4b3c2d' })).toMatch(/^Sample\.id: expected UUID/);
  });

  it.each([
    ['2024-11-02T09:30:00+00:00', '2024-11-02T09:30:00+00:00'],
    ['2024-11-02T09:30:00Z', '2024-11-02T09:30:00+00:00'],
    ['2024-11-02t09:30:00z', '2024-11-02T09:30:00+00:00'],
    ['2024-11-02T10:30:00+01:00', '2024-11-02T09:30:00+00:00'],
    ['2024-11-02T04:00:00-05:30', '2024-11-02T09:30:00+00:00'],
    ['2024-11-02T09:30:00.999999+00:00', '2024-11-02T09:30:00+00:00'],
    ['2024-11-02 09:30:00+0000', '2024-11-02T09:30:00+00:00'],
    ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00+00:00'],
    ['2000-02-29T00:00:00Z', '2000-02-29T00:00:00+00:00'],
    ['2024-12-31T23:59:59+00:00', '2024-12-31T23:59:59+00:00'],
  ])('datetime accepts %s', (text, wire) => {
    expect(Sample.fromJSON({ ...base, at: text }).toJSON().at).toBe(wire);
  });

  it.each([
    '2024-11-02T09:30:00',
    '2024-11-02',
    '2024-02-30T00:00:00Z',
    '1900-02-29T00:00:00Z',
    '2024-13-01T00:00:00Z',
    '2024-11-02T09:60:00Z',
    '2024-11-02T09:30:00+25:00',
    'yesterday',
    '',
  ])('datetime refuses %j', (text) => {
    expect(message({ ...base, at: text })).toMatch(/^Sample\.at: expected ISO-8601 datetime/);
  });

  it('datetime refuses non-strings and invalid Dates', () => {
    expect(message({ ...base, at: 1730539800000 })).toBe('Sample.at: expected ISO-8601 datetime, got 1730539800000');
    expect(() => new Sample({ ...base, at: new Date('nope') })).toThrow('Sample.at: expected ISO-8601 datetime, got Date');
  });

  it('string checks length in code points and the pattern', () => {
    expect(message({ ...base, code: 'a' })).toBe('Sample.code: must have at least 2 characters, got 1');
    expect(message({ ...base, code: 'abcde' })).toBe('Sample.code: must have at most 4 characters, got 5');
    expect(Sample.fromJSON({ ...base, code: '😀😀😀😀' }).code).toBe('😀😀😀😀');
    expect(message({ ...base, code: 'AB' })).toMatch(/^Sample\.code: must match/);
  });

  it('integer and number check type and bounds', () => {
    expect(message({ ...base, count: 1.5 })).toBe('Sample.count: expected integer, got 1.5');
    expect(message({ ...base, count: -1 })).toBe('Sample.count: must be >= 0, got -1');
    expect(message({ ...base, count: 11 })).toBe('Sample.count: must be <= 10, got 11');
    expect(message({ ...base, count: '3' })).toBe('Sample.count: expected integer, got "3"');
    expect(message({ ...base, ratio: Number.POSITIVE_INFINITY })).toBe('Sample.ratio: expected finite number, got Infinity');
    expect(Sample.fromJSON({ ...base, ratio: -2.25, count: 10 }).toJSON()).toMatchObject({ ratio: -2.25, count: 10 });
  });

  it('record validates values, names bad keys, and keeps __proto__ as data', () => {
    expect(message({ ...base, meta: { a: 1, 'b c': 'x' } })).toBe('Sample.meta["b c"]: expected integer, got "x"');
    const parsed = JSON.parse('{"__proto__": 5, "a": 1}') as unknown;
    const s = Sample.fromJSON({ ...base, meta: parsed });
    expect(Object.getPrototypeOf(s.meta)).toBe(Object.prototype);
    expect(Object.keys(s.meta)).toEqual(['__proto__', 'a']);
    expect(JSON.stringify(s.toJSON().meta)).toBe('{"__proto__":5,"a":1}');
  });

  it('array items may be optional', () => {
    expect(Sample.fromJSON({ ...base, maybe: ['a', null] }).maybe).toEqual(['a', null]);
    expect(message({ ...base, maybe: ['a', 1] })).toBe('Sample.maybe[1]: expected string, got 1');
  });

  it('json refuses values JSON cannot carry and very deep nesting', () => {
    expect(message({ ...base, blob: { f: () => 1 } })).toBe('Sample.blob.f: expected JSON value, got function');
    expect(message({ ...base, blob: [undefined] })).toBe('Sample.blob[0]: expected JSON value, got undefined');
    let deep: unknown = 1;
    for (let i = 0; i < 300; i += 1) deep = [deep];
    expect(message({ ...base, blob: deep })).toMatch(/nested deeper than 256 levels$/);
  });
});
