import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { Case, Event, Identity } from '../../src/concept/index.js';

/** Any code point but NUL (concepts refuse NUL and unpaired surrogates: tests/concept/bad-characters.test.ts). */
const storable = (constraints: { minLength?: number; maxLength?: number }) =>
  fc.string({ unit: 'binary', ...constraints }).map((s) => s.replaceAll('\u0000', '\u0001'));
const text = storable({ maxLength: 20 });
const date = fc
  .date({ min: new Date('1000-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true })
  .map((d) => new Date(Math.floor(d.getTime() / 1000) * 1000));
const uuid = fc.uuid().chain((u) => fc.boolean().map((upper) => (upper ? u.toUpperCase() : u)));

const caseInput = fc.record(
  {
    guid: uuid,
    managed: fc.boolean(),
    created: date,
    updated: fc.option(date, { nil: null }),
    closed: fc.option(date, { nil: null }),
    tsid: fc.option(text, { nil: null }),
    name: storable({ minLength: 1, maxLength: 20 }),
    description: text,
    acs: fc.array(text, { maxLength: 6 }),
    webhooks: fc.array(fc.webUrl(), { maxLength: 3 }),
  },
  { requiredKeys: ['name', 'created'] },
);

const identityInput = fc.record({ username: storable({ minLength: 1 }), groups: fc.array(text) });

/** Formats `d` as ISO-8601 with the given offset in minutes (what other producers may send). */
function withOffset(d: Date, minutes: number): string {
  const local = new Date(d.getTime() + minutes * 60_000).toISOString().slice(0, 19);
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

describe('round-trip properties', () => {
  it('Case: wire -> instance -> wire is stable and equal', () => {
    fc.assert(
      fc.property(caseInput, (input) => {
        const c = new Case(input);
        const wire = c.toJSON();
        const back = Case.fromJSON(JSON.parse(JSON.stringify(c)));
        expect(back.equals(c)).toBe(true);
        expect(back.toJSON()).toEqual(wire);
        expect(wire.guid).toBe(c.guid.toLowerCase());
        expect(wire.acs).toEqual([...new Set(input.acs ?? [])].sort());
        expect(wire.created).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
      }),
    );
  });

  it('Case: datetimes with any offset decode to the same instant', () => {
    // Dates one year inside the range so the local time keeps four-digit years.
    const inner = date.filter((d) => d.getUTCFullYear() > 1000 && d.getUTCFullYear() < 9999);
    fc.assert(
      fc.property(inner, fc.integer({ min: -23 * 60 - 59, max: 23 * 60 + 59 }), (d, offset) => {
        const c = Case.fromJSON({ name: 'x', created: withOffset(d, offset) });
        expect(c.created.getTime()).toBe(d.getTime());
      }),
    );
  });

  it('Event: nested case and arbitrary JSON ext round-trip', () => {
    fc.assert(
      fc.property(caseInput, text, text, fc.option(fc.jsonValue(), { nil: null }), (input, source, category, ext) => {
        const ext2 = ext === null ? null : (JSON.parse(JSON.stringify(ext)) as unknown);
        const event = Event.fromJSON({ source, category, case: new Case(input).toJSON(), ext: ext2 });
        const back = Event.fromJSON(JSON.parse(JSON.stringify(event)));
        expect(back.case).toBeInstanceOf(Case);
        expect(back.equals(event)).toBe(true);
        expect(back.toJSON()).toEqual(event.toJSON());
      }),
    );
  });

  it('Identity: round-trips and acs is username ∪ groups', () => {
    fc.assert(
      fc.property(identityInput, (input) => {
        const identity = Identity.fromJSON(input);
        const back = Identity.fromJSON(JSON.parse(JSON.stringify(identity)));
        expect(back.equals(identity)).toBe(true);
        expect(back.acs).toEqual(new Set([input.username, ...input.groups]));
      }),
    );
  });
});
