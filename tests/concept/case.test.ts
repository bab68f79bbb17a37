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

describe('Case.update', () => {
  it('applies a valid patch, sets updated to now and ignores updated in the patch', () => {
    const c = Case.fromJSON(edfFixture('case'));
    const before = Date.now();
    const result = c.update({ name: 'Renamed', acs: ['b', 'a'], updated: '2000-01-01T00:00:00+00:00' });
    expect(result).toBe(c);
    expect(c.name).toBe('Renamed');
    expect(c.acs).toEqual(['a', 'b']);
    expect(c.updated).not.toBeNull();
    expect(c.updated!.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(c.updated!.getTime()).toBeLessThanOrEqual(Date.now());
    expect(c.description).toBe('VPN login from unusual country');
  });

  it('accepts readonly keys with their current value (a full document) and refuses changes', () => {
    const doc = edfFixture('case');
    const c = Case.fromJSON(doc);
    c.update({ ...doc, guid: String(doc.guid).toUpperCase(), created: '2024-11-02T10:30:00+01:00', name: 'same doc' });
    expect(c.name).toBe('same doc');
    for (const patch of [
      { guid: '00000000-0000-0000-0000-000000000000' },
      { managed: true },
      { created: '2024-11-03T09:30:00+00:00' },
    ]) {
      const copy = c.clone();
      let error: unknown;
      try {
        copy.update({ name: 'changed', ...patch });
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ConceptError);
      expect((error as ConceptError).code).toBe('FUSION_ERR_CONCEPT_READONLY');
      expect((error as ConceptError).message).toMatch(/^Case\.(guid|managed|created): is readonly/);
      expect(copy.equals(c)).toBe(true);
    }
  });

  it('changes nothing when any key of the patch is invalid', () => {
    const c = Case.fromJSON(edfFixture('case'));
    const before = c.clone();
    expect(() => c.update({ name: 'new name', description: 'new', acs: ['x', 3] })).toThrow('Case.acs[1]: expected string, got 3');
    expect(() => c.update({ name: 'new name', tsid: 5 })).toThrow('Case.tsid: expected string, got 5');
    expect(() => c.update({ name: '' })).toThrow('Case.name: must not be empty');
    expect(() => c.update('name')).toThrow('Case: expected object, got "name"');
    expect(() => c.update({ name: 'x', bogus: 1 }, { unknownKeys: 'reject' })).toThrow(/^Case\.bogus: unknown field/);
    expect(c.equals(before)).toBe(true);
    expect(c.updated).toBeNull();
  });

  it('accepts null for optional keys and closes a case', () => {
    const c = Case.fromJSON({ ...edfFixture('case'), tsid: 'ts-1' });
    c.update({ tsid: null, closed: '2024-12-01T00:00:00Z' });
    expect(c.tsid).toBeNull();
    expect(c.toJSON().closed).toBe('2024-12-01T00:00:00+00:00');
  });

  it('refuses any update of a closed case with FUSION_ERR_CASE_CLOSED (409)', () => {
    const c = Case.fromJSON({ ...edfFixture('case'), closed: '2024-12-01T00:00:00+00:00' });
    const before = c.clone();
    let error: unknown;
    try {
      c.update({ closed: null, name: 'reopened' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConceptError);
    expect((error as ConceptError).code).toBe('FUSION_ERR_CASE_CLOSED');
    expect((error as ConceptError).status).toBe(409);
    expect((error as ConceptError).message).toMatch(/^Case: case 0f6c2d9a-3b1e-4f5a-9c8d-7e6f5a4b3c2d is closed/);
    expect(c.equals(before)).toBe(true);
  });
});
