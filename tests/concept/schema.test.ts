import { describe, expect, it } from '@jest/globals';
import { Ajv } from 'ajv';
import type { FormatsPlugin } from 'ajv-formats';
import { createRequire } from 'node:module';
import { AuthInfo, Case, Constant, Event, Identities, Identity, Info, PendingDownloadKey, field } from '../../src/concept/index.js';
import type { AnyConceptClass, JsonSchema, SchemaOptions } from '../../src/concept/index.js';
import { edfFixture } from './fixtures.js';

// ajv-formats is CommonJS with a default export TypeScript cannot call under NodeNext: require it.
const addFormats = createRequire(import.meta.url)('ajv-formats') as FormatsPlugin;
const ajv = new Ajv({ allErrors: true });
addFormats(ajv);

type WithSchema = AnyConceptClass & { jsonSchema(options?: SchemaOptions): JsonSchema };

function validator(cls: WithSchema, mode: 'output' | 'input' | 'patch'): (data: unknown) => boolean {
  const validate = ajv.compile(cls.jsonSchema({ mode }));
  return (data) => validate(data) as boolean;
}

describe('jsonSchema', () => {
  it.each([
    ['case', Case],
    ['event', Event],
    ['identity', Identity],
    ['constant', Constant],
    ['info', Info],
    ['auth_info', AuthInfo],
    ['pending_download_key', PendingDownloadKey],
  ] as [string, WithSchema][])('output schema accepts the %s fixture and what toJSON emits', (name, cls) => {
    const valid = validator(cls, 'output');
    expect(valid(edfFixture(name))).toBe(true);
    const schema = cls.jsonSchema();
    expect(schema.required).toEqual(Object.keys(cls.fields));
  });

  it('output schema requires every key and rejects wrong types', () => {
    const valid = validator(Case, 'output');
    const { updated: _updated, ...withoutUpdated } = edfFixture('case');
    expect(valid(withoutUpdated)).toBe(false);
    expect(valid({ ...edfFixture('case'), created: 42 })).toBe(false);
    expect(valid({ ...edfFixture('case'), guid: 'nope' })).toBe(false);
    expect(valid({ ...edfFixture('case'), acs: ['a', 'a'] })).toBe(false);
    expect(valid(new Case({ name: 'x', acs: ['b', 'a', 'b'] }).toJSON())).toBe(true);
  });

  it('input schema makes defaulted and optional keys optional and refuses unknown keys', () => {
    const valid = validator(Case, 'input');
    expect(valid({ name: 'x' })).toBe(true);
    expect(valid({ name: 'x', guid: '0F6C2D9A-3B1E-4F5A-9C8D-7E6F5A4B3C2D' })).toBe(true);
    expect(valid({})).toBe(false);
    expect(valid({ name: '' })).toBe(false);
    expect(valid({ name: 'x', extra: 1 })).toBe(false);
    expect(Case.jsonSchema({ mode: 'input' }).required).toEqual(['name']);
  });

  it('patch schema makes every key optional and refuses unknown keys', () => {
    const valid = validator(Case, 'patch');
    expect(valid({})).toBe(true);
    expect(valid({ description: 'new', closed: null })).toBe(true);
    expect(valid({ name: 3 })).toBe(false);
    expect(valid({ bogus: true })).toBe(false);
    expect(Case.jsonSchema({ mode: 'patch' }).required).toBeUndefined();
  });

  it('nests concept schemas (as input inside patches) and maps every field kind', () => {
    const validEvent = validator(Event, 'output');
    expect(validEvent({ ...edfFixture('event'), ext: { any: ['json', 1] } })).toBe(true);
    expect(validEvent({ ...edfFixture('event'), case: { name: 'x' } })).toBe(false);
    const patchEvent = Event.jsonSchema({ mode: 'patch' }) as { properties: { case: JsonSchema } };
    expect(patchEvent.properties.case.required).toEqual(['name']);
    expect(validator(Identities, 'output')({ identities: [edfFixture('identity')] })).toBe(true);
    const Kinds = Case.extend('Kinds', {
      n: field.integer({ min: 1, max: 3 }),
      x: field.number(),
      e: field.enumOf({ A: 'a', B: 'b' }).optional(),
      r: field.record(field.boolean()),
      o: field.concept(Identity).optional(),
    });
    const props = (Kinds.jsonSchema() as { properties: Record<string, JsonSchema> }).properties;
    expect(props.n).toEqual({ type: 'integer', minimum: 1, maximum: 3 });
    expect(props.x).toEqual({ type: 'number' });
    expect(props.e).toEqual({ type: ['string', 'null'], enum: ['a', 'b', null] });
    expect(props.r).toEqual({ type: 'object', additionalProperties: { type: 'boolean' } });
    expect(props.o).toEqual({ ...Identity.jsonSchema(), type: ['object', 'null'] });
    const validKinds = validator(Kinds, 'input');
    expect(validKinds({ name: 'k', n: 2, x: 0.5, r: {}, o: null, e: null })).toBe(true);
    expect(validKinds({ name: 'k', n: 2, x: 0.5, r: {}, o: { username: 'u' }, e: 'b' })).toBe(true);
    expect(validKinds({ name: 'k', n: 4, x: 0.5, r: {} })).toBe(false);
    expect(validKinds({ name: 'k', n: 2, x: 0.5, r: { a: 1 } })).toBe(false);
    expect(props.updated).toEqual({ type: ['string', 'null'], format: 'date-time' });
  });

  it('returns a fresh copy each time', () => {
    const first = Case.jsonSchema();
    (first.properties as Record<string, unknown>).name = 'mutated';
    expect((Case.jsonSchema().properties as Record<string, unknown>).name).toEqual({ type: 'string', minLength: 1 });
  });
});
