/** The field builders: `field.string()`, `field.datetime().optional()`, `field.concept(Case)`… */
import type { ConceptWire, Fields } from './concept-types.js';
import type { ConceptClassLike } from './field-composite.js';
import { arrayCodec, conceptCodec, jsonCodec, recordCodec, stringSetCodec } from './field-composite.js';
import type { FieldInput, FieldType, FieldWire, JsonValue } from './field-base.js';
import { Field } from './field-base.js';
import type { IntegerOptions, StringOptions } from './field-scalar.js';
import { datetimeCodec } from './field-datetime.js';
import { booleanCodec, enumCodec, integerCodec, numberCodec, stringCodec, uuidCodec } from './field-scalar.js';

type AnyItem = Field<unknown, unknown, unknown, boolean, boolean>;

/** A string, optionally bounded in length (code points) and matched against a pattern. */
function string(options?: StringOptions): Field<string> {
  return new Field(stringCodec(options));
}

/** A UUID string: accepted in any case, stored and emitted lowercase. */
function uuid(): Field<string> {
  return new Field(uuidCodec);
}

/** A Date in memory, `YYYY-MM-DDTHH:MM:SS+00:00` on the wire; accepts ISO-8601 with offset or Z, or a Date. */
function datetime(): Field<Date, string, Date | string> {
  return new Field(datetimeCodec);
}

/** A boolean. */
function boolean(): Field<boolean> {
  return new Field(booleanCodec);
}

/** A safe integer, optionally bounded. */
function integer(options?: IntegerOptions): Field<number> {
  return new Field(integerCodec(options));
}

/** A finite number. */
function number(): Field<number> {
  return new Field(numberCodec);
}

/** One of the string values of an `as const` object, e.g. `field.enumOf(AnalysisStatus)`. */
function enumOf<const E extends Record<string, string>>(values: E): Field<E[keyof E]> {
  const list = Object.values(values);
  if (list.length === 0 || list.some((v) => typeof v !== 'string')) {
    throw new TypeError('field.enumOf expects an object whose values are strings, e.g. { LOW: "low" }');
  }
  return new Field(enumCodec(list));
}

/** A set of strings as `string[]`: kept and emitted sorted, without duplicates. */
function stringSet(): Field<string[]> {
  return new Field(stringSetCodec);
}

/** An array of `item` values. */
function array<F extends AnyItem>(item: F): Field<FieldType<F>[], FieldWire<F>[], FieldInput<F>[]> {
  if (!(item instanceof Field)) throw new TypeError('field.array expects a field declaration, e.g. field.array(field.string())');
  return new Field(arrayCodec(item));
}

/** An object with string keys and `item` values. */
function record<F extends AnyItem>(
  item: F,
): Field<Record<string, FieldType<F>>, Record<string, FieldWire<F>>, Record<string, FieldInput<F>>> {
  if (!(item instanceof Field)) throw new TypeError('field.record expects a field declaration, e.g. field.record(field.json())');
  return new Field(recordCodec(item));
}

/** Any JSON value (deep-copied in and out). */
function json(): Field<JsonValue> {
  return new Field(jsonCodec);
}

/** A nested concept: encoded with its `toJSON`, decoded with `Class.fromJSON` (subclass aware). */
function concept<C extends ConceptClassLike & { readonly fields: Fields }>(
  cls: C,
): Field<InstanceType<C>, ConceptWire<C['fields']>, InstanceType<C>> {
  if (typeof cls !== 'function' || typeof cls.fromJSON !== 'function') {
    throw new TypeError('field.concept expects a concept class, e.g. field.concept(Case)');
  }
  return new Field(conceptCodec(cls));
}

/** Field builders; chain `.optional()`, `.default(v)`, `.readonly()` on the result. */
export const field = {
  string,
  uuid,
  datetime,
  boolean,
  integer,
  number,
  enumOf,
  stringSet,
  array,
  record,
  json,
  concept,
} as const;
