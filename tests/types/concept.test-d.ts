/**
 * Type-level tests of the Concept API, checked by `tsc` (jest does not run this file):
 * every `@ts-expect-error` line must fail to compile, everything else must compile.
 */
import { Case, Concept, Event, Identities, Identity, PendingDownloadKey, defineConcept, field } from '../../src/concept/index.js';
import type { ConceptInput, ConceptWire, JsonValue } from '../../src/concept/index.js';

/** Compiles only when `A` and `B` are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** Compiles only when `A` and `B` are assignable to each other (polymorphic `this` results). */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
function assertType<T extends true>(_value?: T): void {}

// Instance types come from the field declarations.
const c = new Case({ name: 'x' });
assertType<Equal<typeof c.guid, string>>();
assertType<Equal<typeof c.created, Date>>();
assertType<Equal<typeof c.updated, Date | null>>();
assertType<Equal<typeof c.acs, string[]>>();
assertType<Equal<typeof c.tsid, string | null>>();
assertType<Equal<InstanceType<typeof Case>, Case>>();
const asConcept: Concept = c;

// Readonly fields cannot be assigned; the others can.
// @ts-expect-error guid is readonly
c.guid = 'other';
// @ts-expect-error created is readonly
c.created = new Date();
c.name = 'renamed';
c.closed = new Date();

// Constructor input: required keys, in-memory types, datetimes as Date or string.
// @ts-expect-error name is required
new Case({});
// @ts-expect-error name must be a string
new Case({ name: 3 });
// @ts-expect-error acs is a string[]
new Case({ name: 'x', acs: 'soc' });
new Case({ name: 'x', created: new Date(), updated: '2024-11-02T09:30:00+00:00', closed: null });
assertType<Equal<ConceptInput<typeof Case.fields>['created'], Date | string | undefined>>();

// Wire types: Dates as strings, optionals as null.
const wire = c.toJSON();
assertType<Equal<typeof wire.created, string>>();
assertType<Equal<typeof wire.updated, string | null>>();
assertType<Equal<ConceptWire<typeof Event.fields>['case']['created'], string>>();
assertType<Equal<ConceptWire<typeof Event.fields>['ext'], JsonValue | null>>();

// Statics return the class they are called on.
class TimelineCase extends Case.extend('TimelineCase', {
  color: field.string().default('red'),
  owner: field.concept(Identity).optional(),
}) {
  shade(): string {
    return this.color;
  }
}
const t = TimelineCase.fromJSON({});
assertType<Equal<typeof t, TimelineCase>>();
assertType<Equal<typeof t.owner, Identity | null>>();
const cloned = t.clone();
const updated = t.update({ color: 'green' });
assertType<Same<typeof cloned, TimelineCase>>();
assertType<Same<typeof updated, TimelineCase>>();
// @ts-expect-error a clone of a Case is not a TimelineCase
assertType<Same<ReturnType<Case['clone']>, TimelineCase>>();
async function load() {
  return TimelineCase.fromFile('case.yaml');
}
assertType<Equal<Awaited<ReturnType<typeof load>>, TimelineCase>>();
const timelineWire = t.toJSON();
assertType<Equal<typeof timelineWire.color, string>>();
assertType<Equal<typeof timelineWire.owner, { username: string; groups: string[] } | null>>();
const fromCase = Case.fromJSON({});
// @ts-expect-error a Case is not a TimelineCase
const notTimeline: TimelineCase = fromCase;
// @ts-expect-error the abstract base cannot decode
Concept.fromJSON({});
new TimelineCase({ name: 'x', color: 'blue' });

// Overrides must narrow the inherited type.
// @ts-expect-error name was a string
Case.extend('Bad', { name: field.integer() });
// @ts-expect-error name was not nullable
Case.extend('Bad', { name: field.string().optional() });
Event.extend('TimelineEvent', { case: field.concept(TimelineCase) });

// Enums, arrays, records.
const Level = { LOW: 'low', HIGH: 'high' } as const;
const Thing = defineConcept('Thing', {
  level: field.enumOf(Level),
  counts: field.record(field.integer()).default({}),
  items: field.array(field.concept(Identity)),
});
const thing = new Thing({ level: 'low', items: [new Identity({ username: 'u' })] });
assertType<Equal<typeof thing.level, 'low' | 'high'>>();
assertType<Equal<typeof thing.counts, Record<string, number>>>();
assertType<Equal<typeof thing.items, Identity[]>>();
// @ts-expect-error not a Level value
new Thing({ level: 'medium', items: [] });

export { asConcept, cloned, load, notTimeline, t, thing, timelineWire, updated, wire };

// The input may be left out only when every key may be omitted.
new Identities();
new PendingDownloadKey();
// @ts-expect-error Case needs a name
new Case();
