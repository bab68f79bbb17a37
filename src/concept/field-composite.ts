/** Codecs of composite field kinds: stringSet, array, record, json and nested concepts. */
import { ConceptError } from './concept-error.js';
import type { AnyField, FieldCodec, JsonSchema, JsonValue, SchemaMode } from './field-base.js';
import { FieldIssue, decodeContext, expected } from './field-base.js';
import { checkKey, checkText } from './text-check.js';

/** What `field.concept()` needs from a concept class (kept structural to avoid an import cycle). */
export interface ConceptClassLike {
  new (input: never): ConceptLike;
  readonly conceptName: string;
  fromJSON(data: unknown, options?: { unknownKeys?: 'ignore' | 'reject' }): ConceptLike;
  jsonSchema(options?: { mode?: SchemaMode }): JsonSchema;
}

/** What `field.concept()` needs from a concept instance. */
export interface ConceptLike {
  toJSON(): unknown;
  equals(other: unknown): boolean;
  clone(): ConceptLike;
}

function isSortedUnique(values: readonly string[]): boolean {
  for (let i = 1; i < values.length; i += 1) {
    if (!(values[i - 1]! < values[i]!)) return false;
  }
  return true;
}

/** Returns the values sorted (by UTF-16 code units) without duplicates, as a new array. */
export function sortedUnique(values: readonly string[]): string[] {
  if (isSortedUnique(values)) return values.slice();
  const sorted = values.slice().sort();
  let kept = 0;
  for (let i = 0; i < sorted.length; i += 1) {
    if (i === 0 || sorted[i] !== sorted[kept - 1]) sorted[kept++] = sorted[i]!;
  }
  sorted.length = kept;
  return sorted;
}

/** Codec of `field.stringSet()`: string[] kept and emitted sorted and unique. */
export const stringSetCodec: FieldCodec<string[], string[]> = {
  kind: 'stringSet',
  decode(value) {
    if (!Array.isArray(value)) expected('array of strings', value);
    for (let i = 0; i < value.length; i += 1) {
      try {
        if (typeof value[i] !== 'string') expected('string', value[i]);
        checkText(value[i] as string);
      } catch (issue) {
        (issue as FieldIssue).path.unshift(i);
        throw issue;
      }
    }
    return sortedUnique(value as string[]);
  },
  encode: sortedUnique,
  equals(a, b) {
    const x = sortedUnique(a);
    const y = sortedUnique(b);
    return x.length === y.length && x.every((v, i) => v === y[i]);
  },
  clone: (value) => value.slice(),
  schema: (mode) => ({ type: 'array', items: { type: 'string' }, ...(mode === 'output' ? { uniqueItems: true } : {}) }),
  narrows: (other) => other.kind === 'stringSet',
};

/** Codec of `field.array(item)`. */
export function arrayCodec(item: AnyField): FieldCodec<unknown[], unknown[]> & { item: AnyField } {
  return {
    kind: 'array',
    item,
    decode(value) {
      if (!Array.isArray(value)) expected('array', value);
      const out = new Array<unknown>(value.length);
      let i = 0;
      try {
        for (; i < value.length; i += 1) out[i] = item.decode(value[i]);
      } catch (issue) {
        if (issue instanceof FieldIssue) issue.path.unshift(i);
        throw issue;
      }
      return out;
    },
    encode: (value) => value.map((v) => item.encode(v)),
    equals: (a, b) => a.length === b.length && a.every((v, i) => item.equals(v, b[i])),
    clone: (value) => value.map((v) => item.clone(v)),
    schema: (mode) => ({ type: 'array', items: item.schema(mode === 'patch' ? 'input' : mode) }),
    narrows(other) {
      const otherItem = (other as { item?: AnyField }).item;
      return other.kind === 'array' && otherItem !== undefined && narrowsField(item, otherItem);
    },
  };
}

/** True when `value` is a plain object (what JSON.parse gives for `{...}`). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Sets `target[key] = value`, even for the key `__proto__`. */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

function mapRecord(value: Record<string, unknown>, fn: (v: unknown) => unknown, checkKeys = false): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let key = '';
  if (checkKeys) for (key of Object.keys(value)) checkKey(key);
  try {
    for (key of Object.keys(value)) setOwn(out, key, fn(value[key]));
  } catch (issue) {
    if (issue instanceof FieldIssue) issue.path.unshift(key);
    throw issue;
  }
  return out;
}

/** Codec of `field.record(item)`: an object with string keys and `item` values. */
export function recordCodec(item: AnyField): FieldCodec<Record<string, unknown>, Record<string, unknown>> & { item: AnyField } {
  return {
    kind: 'record',
    item,
    decode(value) {
      if (!isPlainObject(value)) expected('object', value);
      return mapRecord(value, (v) => item.decode(v), true);
    },
    encode: (value) => mapRecord(value, (v) => item.encode(v)),
    equals(a, b) {
      const keys = Object.keys(a);
      return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && item.equals(a[k], b[k]));
    },
    clone: (value) => mapRecord(value, (v) => item.clone(v)),
    schema: (mode) => ({ type: 'object', additionalProperties: item.schema(mode === 'patch' ? 'input' : mode) }),
    narrows(other) {
      const otherItem = (other as { item?: AnyField }).item;
      return other.kind === 'record' && otherItem !== undefined && narrowsField(item, otherItem);
    },
  };
}

const MAX_JSON_DEPTH = 256;

/** A deep copy of a JSON value; `decoding`: also refuses strings and keys holding NUL or unpaired surrogates. */
function copyJson(value: unknown, depth: number, decoding = false): JsonValue {
  if (typeof value === 'string') {
    if (decoding) checkText(value);
    return value;
  }
  if (value === null || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) expected('JSON value', value);
    return value;
  }
  if (depth > MAX_JSON_DEPTH) throw new FieldIssue(`JSON value nested deeper than ${MAX_JSON_DEPTH} levels`);
  if (Array.isArray(value)) {
    const out = new Array<JsonValue>(value.length);
    let i = 0;
    try {
      for (; i < value.length; i += 1) out[i] = copyJson(value[i], depth + 1, decoding);
    } catch (issue) {
      if (issue instanceof FieldIssue) issue.path.unshift(i);
      throw issue;
    }
    return out;
  }
  if (isPlainObject(value)) return mapRecord(value, (v) => copyJson(v, depth + 1, decoding), decoding) as { [key: string]: JsonValue };
  return expected('JSON value', value);
}

function jsonEquals(a: JsonValue, b: JsonValue): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => jsonEquals(v, b[i]!));
  }
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && jsonEquals(a[k]!, b[k]!));
}

/** Codec of `field.json()`: any JSON value, deep-copied in and out. */
export const jsonCodec: FieldCodec<JsonValue, JsonValue> = {
  kind: 'json',
  decode: (value) => copyJson(value, 0, true),
  encode: (value) => copyJson(value, 0),
  equals: jsonEquals,
  clone: (value) => copyJson(value, 0),
  schema: () => ({}),
  narrows: (other) => other.kind === 'json',
};

/** Codec of `field.concept(Class)`: nested concept, decoded with `Class.fromJSON`. */
export function conceptCodec(cls: ConceptClassLike): FieldCodec<ConceptLike, unknown> & { cls: ConceptClassLike } {
  return {
    kind: 'concept',
    cls,
    decode(value) {
      if (value instanceof cls) return value;
      try {
        return cls.fromJSON(value, { unknownKeys: decodeContext.unknownKeys });
      } catch (error) {
        if (error instanceof ConceptError) throw new FieldIssue(error.detail, [...error.segments]);
        throw error;
      }
    },
    encode: (value) => value.toJSON(),
    equals: (a, b) => a.equals(b),
    clone: (value) => value.clone(),
    schema: (mode) => cls.jsonSchema({ mode: mode === 'patch' ? 'input' : mode }),
    narrows(other) {
      const otherCls = (other as { cls?: ConceptClassLike }).cls;
      return other.kind === 'concept' && otherCls !== undefined && (cls === otherCls || cls.prototype instanceof otherCls);
    },
  };
}

/** True when every value `field` accepts is accepted by `base` (a compatible subclass override). */
export function narrowsField(field: AnyField, base: AnyField): boolean {
  if (field.flags.optional && !base.flags.optional) return false;
  return field.codec.narrows(base.codec);
}
