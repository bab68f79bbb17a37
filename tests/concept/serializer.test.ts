import { describe, expect, it } from '@jest/globals';
import SuperJSON from 'superjson';
import { Case, Event, Identity, field, fusionSerializer, registerConcept } from '../../src/concept/index.js';
import { edfFixture } from './fixtures.js';

class TaggedCase extends Case.extend('TaggedCase', {
  tag: field.string().default('none'),
  owner: field.concept(Identity).optional(),
}) {}
registerConcept(TaggedCase);

describe('fusionSerializer', () => {
  it('round-trips concepts inside Maps, Sets and arrays as instances of their class', () => {
    const c = Case.fromJSON(edfFixture('case'));
    const identity = Identity.fromJSON(edfFixture('identity'));
    const event = Event.fromJSON(edfFixture('event'));
    const value = {
      byGuid: new Map([[c.guid, c]]),
      people: new Set([identity]),
      events: [event],
      when: new Date('2024-11-02T09:30:00.123Z'),
      big: 2n ** 70n,
      nothing: undefined,
    };
    const text = fusionSerializer.stringify(value);
    const back = fusionSerializer.parse<typeof value>(text);
    const backCase = back.byGuid.get(c.guid)!;
    expect(backCase).toBeInstanceOf(Case);
    expect(backCase.equals(c)).toBe(true);
    const [backIdentity] = [...back.people];
    expect(backIdentity).toBeInstanceOf(Identity);
    expect(backIdentity!.equals(identity)).toBe(true);
    expect(back.events[0]).toBeInstanceOf(Event);
    expect(back.events[0]!.case).toBeInstanceOf(Case);
    expect(back.when).toEqual(value.when);
    expect(back.big).toBe(2n ** 70n);
    expect('nothing' in back).toBe(true);
  });

  it('carries concepts in their wire form', () => {
    const c = Case.fromJSON(edfFixture('case'));
    const { json, meta } = fusionSerializer.serialize({ c });
    expect(json).toEqual({ c: edfFixture('case') });
    expect(meta?.values).toEqual({ c: [['custom', 'Case']] });
  });

  it('decodes a registered subclass as itself, with its nested concept', () => {
    const t = TaggedCase.fromJSON({ ...edfFixture('case'), tag: 'x', owner: { username: 'jdoe' } });
    const back = fusionSerializer.parse<{ list: TaggedCase[] }>(fusionSerializer.stringify({ list: [t, Case.fromJSON(edfFixture('case'))] }));
    expect(back.list[0]).toBeInstanceOf(TaggedCase);
    expect(back.list[0]!.owner).toBeInstanceOf(Identity);
    expect(back.list[0]!.equals(t)).toBe(true);
    expect(back.list[1]!.constructor).toBe(Case);
  });

  it('sends an unregistered subclass as its nearest registered ancestor', () => {
    class LocalCase extends Case {}
    const local = LocalCase.fromJSON(edfFixture('case'));
    const back = fusionSerializer.parse<LocalCase>(fusionSerializer.stringify(local));
    expect(back.constructor).toBe(Case);
  });

  it('lets a service replace the class that decodes a name (on its own serializer)', () => {
    const serializer = new SuperJSON();
    class ServiceCase extends Case {}
    registerConcept(Case, serializer);
    registerConcept(ServiceCase, serializer);
    const back = serializer.parse<Case>(serializer.stringify(Case.fromJSON(edfFixture('case'))));
    expect(back).toBeInstanceOf(ServiceCase);
  });

  it('refuses things that are not concept classes', () => {
    expect(() => registerConcept(Date as never)).toThrow(/registerConcept expects a concept class/);
  });

  it('reports invalid concept payloads with a ConceptError', () => {
    const text = fusionSerializer.stringify({ c: Case.fromJSON(edfFixture('case')) });
    const tampered = text.replace('"soc"', '3');
    expect(() => fusionSerializer.parse(tampered)).toThrow('Case.acs[0]: expected string, got 3');
  });
});
