/** Codecs of scalar field kinds: string, uuid, boolean, integer, number, enum. */
import type { FieldCodec, JsonSchema } from './field-base.js';
import { FieldIssue, describeValue, expected } from './field-base.js';
import { checkText } from './text-check.js';

/** Options of `field.string()`. */
export interface StringOptions {
  /** Minimum length in code points. */
  minLength?: number;
  /** Maximum length in code points. */
  maxLength?: number;
  /** Regular expression the whole value must match (anchor it yourself). */
  pattern?: RegExp | string;
}

/** Options of `field.integer()`. */
export interface IntegerOptions {
  /** Smallest accepted value. */
  min?: number;
  /** Largest accepted value. */
  max?: number;
}

function identity<T>(value: T): T {
  return value;
}

function same<T>(a: T, b: T): boolean {
  return a === b;
}

function codePointLength(text: string): number {
  let length = text.length;
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        length -= 1;
        i += 1;
      }
    }
  }
  return length;
}

/** Codec of `field.string()`. */
export function stringCodec(options: StringOptions = {}): FieldCodec<string, string> {
  const { minLength, maxLength } = options;
  const pattern = typeof options.pattern === 'string' ? new RegExp(options.pattern, 'u') : options.pattern;
  const bounded = minLength !== undefined || maxLength !== undefined;
  return {
    kind: 'string',
    decode(value) {
      if (typeof value !== 'string') expected('string', value);
      checkText(value);
      if (bounded) {
        const length = value.length > 0 && minLength === 1 && maxLength === undefined ? 1 : codePointLength(value);
        if (minLength !== undefined && length < minLength) {
          throw new FieldIssue(minLength === 1 ? 'must not be empty' : `must have at least ${minLength} characters, got ${length}`);
        }
        if (maxLength !== undefined && length > maxLength) {
          throw new FieldIssue(`must have at most ${maxLength} characters, got ${length}`);
        }
      }
      if (pattern !== undefined && !pattern.test(value)) {
        throw new FieldIssue(`must match ${pattern.source}, got ${describeValue(value)}`);
      }
      return value;
    },
    primitive: true,
    encode: identity,
    equals: same,
    clone: identity,
    schema() {
      const schema: JsonSchema = { type: 'string' };
      if (minLength !== undefined) schema.minLength = minLength;
      if (maxLength !== undefined) schema.maxLength = maxLength;
      if (pattern !== undefined) schema.pattern = pattern.source;
      return schema;
    },
    narrows: (other) => other.kind === 'string',
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Codec of `field.uuid()`: any-case UUID in, lowercase stored and emitted. */
export const uuidCodec: FieldCodec<string, string> = {
  kind: 'uuid',
  decode(value) {
    if (typeof value !== 'string' || !UUID.test(value)) expected('UUID', value);
    return value.toLowerCase();
  },
  primitive: true,
  encode: identity,
  equals: same,
  clone: identity,
  schema: (mode) => ({
    type: 'string',
    format: 'uuid',
    pattern: mode === 'output'
      ? '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
      : '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
  }),
  narrows: (other) => other.kind === 'uuid',
};

/** Codec of `field.boolean()`. */
export const booleanCodec: FieldCodec<boolean, boolean> = {
  kind: 'boolean',
  decode(value) {
    if (typeof value !== 'boolean') expected('boolean', value);
    return value;
  },
  primitive: true,
  encode: identity,
  equals: same,
  clone: identity,
  schema: () => ({ type: 'boolean' }),
  narrows: (other) => other.kind === 'boolean',
};

/** Codec of `field.integer()`: a safe integer within optional bounds. */
export function integerCodec(options: IntegerOptions = {}): FieldCodec<number, number> {
  const { min, max } = options;
  return {
    kind: 'integer',
    decode(value) {
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) expected('integer', value);
      if (min !== undefined && value < min) throw new FieldIssue(`must be >= ${min}, got ${value}`);
      if (max !== undefined && value > max) throw new FieldIssue(`must be <= ${max}, got ${value}`);
      return value;
    },
    primitive: true,
    encode: identity,
    equals: same,
    clone: identity,
    schema() {
      const schema: JsonSchema = { type: 'integer' };
      if (min !== undefined) schema.minimum = min;
      if (max !== undefined) schema.maximum = max;
      return schema;
    },
    narrows: (other) => other.kind === 'integer' || other.kind === 'number',
  };
}

/** Codec of `field.number()`: any finite number. */
export const numberCodec: FieldCodec<number, number> = {
  kind: 'number',
  decode(value) {
    if (typeof value !== 'number' || !Number.isFinite(value)) expected('finite number', value);
    return value;
  },
  primitive: true,
  encode: identity,
  equals: same,
  clone: identity,
  schema: () => ({ type: 'number' }),
  narrows: (other) => other.kind === 'number',
};

/** Codec of `field.enumOf()`: one of the string values of an `as const` object. */
export function enumCodec(values: readonly string[]): FieldCodec<string, string> & { values: readonly string[] } {
  const allowed = new Set(values);
  const list = values.map((value) => JSON.stringify(value)).join(', ');
  return {
    kind: 'enum',
    values,
    decode(value) {
      if (typeof value !== 'string' || !allowed.has(value)) expected(`one of ${list}`, value);
      return value;
    },
    primitive: true,
    encode: identity,
    equals: same,
    clone: identity,
    schema: () => ({ type: 'string', enum: [...values] }),
    narrows(other) {
      const otherValues = (other as { values?: readonly string[] }).values;
      return other.kind === 'enum' && otherValues !== undefined && values.every((v) => otherValues.includes(v));
    },
  };
}
