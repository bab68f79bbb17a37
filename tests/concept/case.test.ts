import { describe, expect, it } from '@jest/globals';
import { Case, ConceptError } from '../../src/concept/index.js';
import { edfFixture } from './fixtures.js';

describe('Case', () => {
  it('round-trips the edf_fusion fixture unchanged', () => {
    const doc = edfFixture('case');
    const c = Case.fromJSON(doc);
    expect(c).toBeInstanceOf(Case);
    expect(c.created).toEqual(new Date('2024-11-02T09:30:00Z'));
    expect(c.toJSON()).toEqual(doc);
    expect(JSON.parse(JSON.stringify(c))).toEqual(doc);
  });

  it('fills defaults for a minimal input', () => {
    const c = new Case({ name: 'x' });
    expect(c.guid).toMatch(/^[0-9a-f-]{36}$/);
    expect(c.managed).toBe(false);
    expect(c.created).toBeInstanceOf(Date);
    expect(c.updated).toBeNull();
    expect(c.acs).toEqual([]);
    expect(new Case({ name: 'y' }).acs).not.toBe(c.acs);
  });

  it('names class and path in errors', () => {
    expect(() => Case.fromJSON({ ...edfFixture('case'), created: 42 })).toThrow(
      new ConceptError({ conceptName: 'Case', segments: ['created'], detail: 'expected ISO-8601 datetime, got 42' }),
    );
  });
});
