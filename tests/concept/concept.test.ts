import { describe, expect, it } from '@jest/globals';
import { Case, Concept, ConceptError, Event, Identity, defineConcept, field } from '../../src/concept/index.js';
import { edfFixture } from './fixtures.js';

/** Runs `fn`, expects a ConceptError and returns it. */
function conceptError(fn: () => unknown): ConceptError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConceptError);
    return error as ConceptError;
  }
  throw new Error('expected a ConceptError, nothing was thrown');
}

describe('Concept decoding errors', () => {
  const valid = edfFixture('case');
  const cases: [string, Record<string, unknown>, string][] = [
    ['wrong type', { ...valid, name: 42 }, 'Case.name: expected string, got 42'],
    ['datetime as number', { ...valid, created: 42 }, 'Case.created: expected ISO-8601 datetime, got 42'],
    ['missing required', { ...valid, name: undefined }, 'Case.name: missing required field'],
    ['empty name', { ...valid, name: '' }, 'Case.name: must not be empty'],
    ['bad UUID', { ...valid, guid: 'not-a-uuid' }, 'Case.guid: expected UUID, got "not-a-uuid"'],
    ['UUID too short', { ...valid, guid: '0f6c2d9a-3b1e-4f5a-9c8d-7e6f5a4b3c2' }, 'Case.guid: expected UUID'],
    ['naive datetime', { ...valid, created: '2024-11-02T09:30:00' }, 'Case.created: expected ISO-8601 datetime with offset or Z'],
    ['Feb 30', { ...valid, created: '2024-02-30T09:30:00+00:00' }, 'Case.created: expected ISO-8601 datetime'],
    ['Feb 29 on a non-leap year', { ...valid, updated: '2023-02-29T00:00:00Z' }, 'Case.updated: expected ISO-8601 datetime'],
    ['hour 24', { ...valid, created: '2024-11-02T24:00:00+00:00' }, 'Case.created: expected ISO-8601 datetime'],
    ['null for non-optional', { ...valid, managed: null }, 'Case.managed: expected boolean, got null'],
    ['null for defaulted list', { ...valid, acs: null }, 'Case.acs: expected array of strings, got null'],
    ['bad set item', { ...valid, acs: ['soc', 'cert', 3] }, 'Case.acs[2]: expected string, got 3'],
    ['bad array item', { ...valid, webhooks: [true] }, 'Case.webhooks[0]: expected string, got true'],
  ];

  it.each(cases)('%s', (_label, doc, message) => {
    const error = conceptError(() => Case.fromJSON(doc));
    expect(error.code).toBe('FUSION_ERR_CONCEPT_INVALID');
    expect(error.status).toBe(400);
    expect(error.conceptName).toBe('Case');
    expect(error.message.startsWith(message)).toBe(true);
  });

  it('refuses documents that are not objects', () => {
    for (const doc of [null, 3, 'x', [valid], undefined]) {
      expect(conceptError(() => Case.fromJSON(doc)).message).toMatch(/^Case: expected object, got /);
    }
  });

  it('gives nested paths through concepts', () => {
    const event = edfFixture('event');
    const bad = { ...event, case: { ...(event.case as object), acs: ['a', 'b', 3] } };
    const error = conceptError(() => Event.fromJSON(bad));
    expect(error.message).toBe('Event.case.acs[2]: expected string, got 3');
    expect(error.path).toBe('case.acs[2]');
    expect(error.segments).toEqual(['case', 'acs', 2]);
    expect(error.conceptName).toBe('Event');
    expect(conceptError(() => Event.fromJSON({ ...event, case: 7 })).message).toBe('Event.case: expected object, got 7');
  });

  it('ignores unknown keys by default and rejects them on request', () => {
    const doc = { ...edfFixture('case'), extra: 1 };
    expect(Case.fromJSON(doc).toJSON()).toEqual(edfFixture('case'));
    expect(conceptError(() => Case.fromJSON(doc, { unknownKeys: 'reject' })).message).toMatch(/^Case\.extra: unknown field/);
    const event = { ...edfFixture('event'), case: { ...edfFixture('case'), extra: 1 } };
    expect(conceptError(() => Event.fromJSON(event, { unknownKeys: 'reject' })).path).toBe('case.extra');
    expect(Event.fromJSON(event).case.name).toBe('Suspicious login');
  });

  it('validates constructor input too', () => {
    expect(conceptError(() => new Case({ name: 'x', acs: ['a', 1 as unknown as string] })).message).toBe(
      'Case.acs[1]: expected string, got 1',
    );
  });
});

describe('Concept values', () => {
  it('normalizes on input: lowercase UUIDs, sorted unique sets, datetimes to UTC seconds', () => {
    const c = Case.fromJSON({
      guid: '0F6C2D9A-3B1E-4F5A-9C8D-7E6F5A4B3C2D',
      created: '2024-11-02T11:30:00.123+02:00',
      name: 'n',
      acs: ['b', 'a', 'b'],
    });
    expect(c.guid).toBe('0f6c2d9a-3b1e-4f5a-9c8d-7e6f5a4b3c2d');
    expect(c.acs).toEqual(['a', 'b']);
    expect(c.toJSON().created).toBe('2024-11-02T09:30:00+00:00');
    expect(new Case({ name: 'x', created: new Date('2024-01-01T00:00:00.900Z') }).toJSON().created).toBe('2024-01-01T00:00:00+00:00');
  });

  it('emits sets sorted and unique even after in-place changes', () => {
    const c = new Case({ name: 'x', acs: ['m'] });
    c.acs.push('a', 'm');
    expect(c.toJSON().acs).toEqual(['a', 'm']);
  });

  it('never shares default arrays between instances', () => {
    const a = new Case({ name: 'a' });
    const b = new Case({ name: 'b' });
    a.acs.push('x');
    a.webhooks.push('http://x');
    expect(b.acs).toEqual([]);
    expect(b.webhooks).toEqual([]);
    const Plain = defineConcept('Plain', { list: field.array(field.integer()).default([1]) });
    const p = new Plain({});
    p.list.push(2);
    expect(new Plain({}).list).toEqual([1]);
  });

  it('clones deeply and compares by value', () => {
    const c = Case.fromJSON(edfFixture('case'));
    const copy = c.clone();
    expect(copy).toBeInstanceOf(Case);
    expect(copy).not.toBe(c);
    expect(copy.equals(c)).toBe(true);
    copy.acs.push('other');
    expect(c.acs).toEqual(['soc']);
    expect(copy.equals(c)).toBe(false);
    expect(copy.created).not.toBe(c.created);
    expect(c.equals(edfFixture('case'))).toBe(false);
    const event = Event.fromJSON({ ...edfFixture('event'), ext: { a: [1, { b: 2 }] } });
    const eventCopy = event.clone();
    expect(eventCopy.case).not.toBe(event.case);
    expect(eventCopy.equals(event)).toBe(true);
    (eventCopy.ext as { a: unknown[] }).a.push(3);
    expect(eventCopy.equals(event)).toBe(false);
  });

  it('keeps json values as copies', () => {
    const ext = { nested: { list: [1, 'two', null, true] } };
    const event = new Event({ source: 's', category: 'c', case: new Case({ name: 'x' }), ext });
    ext.nested.list.push(5);
    expect(event.toJSON().ext).toEqual({ nested: { list: [1, 'two', null, true] } });
    expect(conceptError(() => Event.fromJSON({ ...edfFixture('event'), ext: { a: [Number.NaN] } })).path).toBe('ext.a[0]');
    expect(conceptError(() => Event.fromJSON({ ...edfFixture('event'), ext: { d: new Date() } })).message).toBe(
      'Event.ext.d: expected JSON value, got Date',
    );
  });

  it('JSON.stringify uses the wire form', () => {
    const doc = edfFixture('case');
    expect(JSON.parse(JSON.stringify({ items: [Case.fromJSON(doc)] }))).toEqual({ items: [doc] });
  });
});

describe('Subclassing', () => {
  class TimelineCase extends Case.extend('TimelineCase', {
    color: field.string().default('red'),
    owner: field.concept(Identity).optional(),
  }) {
    label(): string {
      return `${this.name} (${this.color})`;
    }
  }

  it('keeps the parent fields and rules and adds its own', () => {
    const doc = { ...edfFixture('case'), color: 'blue', owner: { username: 'jdoe', groups: ['b', 'a'] } };
    const t = TimelineCase.fromJSON(doc);
    expect(t).toBeInstanceOf(TimelineCase);
    expect(t).toBeInstanceOf(Case);
    expect(t).toBeInstanceOf(Concept);
    expect(t.owner).toBeInstanceOf(Identity);
    expect(t.label()).toBe('Suspicious login (blue)');
    expect(t.toJSON()).toEqual({ ...doc, owner: { username: 'jdoe', groups: ['a', 'b'] } });
    expect(TimelineCase.fromJSON(t.toJSON()).equals(t)).toBe(true);
    expect(TimelineCase.conceptName).toBe('TimelineCase');
    expect(Object.keys(TimelineCase.fields)).toEqual([...Object.keys(Case.fields), 'color', 'owner']);
    expect(() => t.clone().update({ closed: '2024-12-01T00:00:00Z' }).update({ name: 'y' })).toThrow(/closed/);
  });

  it('applies defaults and names its own class in errors', () => {
    const t = TimelineCase.fromJSON(edfFixture('case'));
    expect(t.color).toBe('red');
    expect(t.owner).toBeNull();
    const error = conceptError(() => TimelineCase.fromJSON({ ...edfFixture('case'), owner: { username: 3 } }));
    expect(error.message).toBe('TimelineCase.owner.username: expected string, got 3');
  });

  it('lets a nested concept field decode as a subclass', () => {
    class TimelineEvent extends Event.extend('TimelineEvent', { case: field.concept(TimelineCase) }) {}
    const e = TimelineEvent.fromJSON({ ...edfFixture('event'), case: { ...edfFixture('case'), color: 'green' } });
    expect(e.case).toBeInstanceOf(TimelineCase);
    expect(e.case.color).toBe('green');
  });

  it('refuses incompatible overrides at declaration', () => {
    expect(() => Case.extend('Bad', { name: field.integer() } as never)).toThrow(/cannot override Case\.name/);
    expect(() => Case.extend('Bad', { name: field.string().optional() } as never)).toThrow(/cannot override/);
    expect(() => Event.extend('Bad', { case: field.concept(Identity) } as never)).toThrow(/cannot override Event\.case/);
  });
});

describe('defineConcept declarations', () => {
  it('rejects bad names and fields at once', () => {
    expect(() => defineConcept('', {})).toThrow(/concept name/);
    expect(() => defineConcept('X', { a: 'string' } as never)).toThrow(/X\.a: expected a field declaration/);
    expect(() => defineConcept('X', { toJSON: field.string() })).toThrow(/reserved/);
    expect(() => defineConcept('X', { update: field.string() })).toThrow(/reserved/);
    expect(() => field.string().default(3 as never)).toThrow(/invalid default/);
    expect(() => field.enumOf({})).toThrow(/enumOf/);
  });
});
