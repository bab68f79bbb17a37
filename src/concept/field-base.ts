/** Field declarations: one `Field` per concept key, from which type, codec and schema derive. */

/** Any JSON value (what `JSON.parse` can return). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A JSON Schema (draft-07) object as built by `Concept.jsonSchema`. */
export type JsonSchema = { [keyword: string]: unknown };

/** Which JSON Schema to build: wire output, creation input (defaults optional) or a partial patch. */
export type SchemaMode = 'output' | 'input' | 'patch';

/** One step of a field path: an object key or an array index. */
export type PathSegment = string | number;

/**
 * Internal validation failure: a message plus the path below the point that caught it.
 * Not an Error (no stack capture); concepts turn it into a ConceptError.
 */
export class FieldIssue {
  /** Path segments from the concept root, filled in while the issue travels up. */
  readonly path: PathSegment[];
  /** What was wrong, e.g. `expected string, got 3`. */
  readonly detail: string;

  constructor(detail: string, path: PathSegment[] = []) {
    this.detail = detail;
    this.path = path;
  }
}

/** Describes a received value for an error message: `42`, `"abc"`, `null`, `array`, `object`. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') {
    const text = JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
    return text;
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return 'array';
  if (value instanceof Date) return 'Date';
  return typeof value === 'object' ? 'object' : typeof value;
}

/** Throws the FieldIssue `expected <what>, got <value>`. */
export function expected(what: string, value: unknown): never {
  throw new FieldIssue(`expected ${what}, got ${describeValue(value)}`);
}

/** Formats path segments as `case.acs[2]` (keys that are not identifiers as `["a b"]`). */
export function formatPath(path: readonly PathSegment[]): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(segment)) text += text === '' ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}

/** The behaviour of one field kind (string, datetime, array…), independent of modifiers. */
export interface FieldCodec<T = unknown, W = unknown> {
  /** Kind name, used to check that a subclass override is compatible. */
  readonly kind: string;
  /** True when values are immutable primitives encoded as themselves (lets codecs skip calls). */
  readonly primitive?: boolean;
  /** Validates a wire (or in-memory) value and returns the in-memory value; throws FieldIssue. */
  decode(value: unknown): T;
  /** Returns the wire form of an in-memory value. */
  encode(value: T): W;
  /** True when two in-memory values are equal. */
  equals(a: T, b: T): boolean;
  /** Returns a copy that shares nothing mutable with `value`. */
  clone(value: T): T;
  /** JSON Schema of the wire form. */
  schema(mode: SchemaMode): JsonSchema;
  /** True when every value this codec accepts is accepted by `other` (subclass overrides). */
  narrows(other: FieldCodec): boolean;
}

/** The modifiers applied to a field. */
export interface FieldFlags {
  /** `.optional()`: null allowed, null by default, null on the wire. */
  readonly optional: boolean;
  /** `.readonly()`: set at creation, `update` accepts it only unchanged. */
  readonly readonly: boolean;
  /** `.default(v)`: value or factory used when the key is absent. */
  readonly fallback: { readonly value: unknown } | { readonly factory: () => unknown } | null;
}

/**
 * A declared field. Type parameters: in-memory type `T`, wire type `W`, constructor input
 * type `I`, whether the key may be omitted on input `O`, whether it is readonly `R`.
 */
export class Field<T, W = T, I = T, O extends boolean = false, R extends boolean = false> {
  /** Phantom carrier of the type parameters (never set at runtime). */
  declare readonly '~types': { t: T; w: W; i: I; o: O; r: R };
  /** The kind's behaviour. */
  readonly codec: FieldCodec;
  /** The modifiers. */
  readonly flags: FieldFlags;

  constructor(codec: FieldCodec, flags: FieldFlags = { optional: false, readonly: false, fallback: null }) {
    this.codec = codec;
    this.flags = flags;
  }

  /** Allows null: the value is `T | null`, null when omitted, `null` on the wire. */
  optional(): Field<T | null, W | null, I | null, true, R> {
    return new Field(this.codec, { ...this.flags, optional: true });
  }

  /** Value used when the key is absent; pass a factory (or rely on cloning) for mutable values. */
  default(value: T | (() => T)): Field<T, W, I, true, R> {
    let fallback: FieldFlags['fallback'];
    if (typeof value === 'function') {
      fallback = { factory: value as () => unknown };
    } else {
      try {
        fallback = { value: value === null ? null : this.codec.decode(value) };
      } catch (error) {
        const detail = error instanceof FieldIssue ? error.detail : String(error);
        throw new TypeError(`invalid default for ${this.codec.kind} field: ${detail}`);
      }
    }
    return new Field(this.codec, { ...this.flags, fallback });
  }

  /** Set once at creation: `update` accepts the key only when its value is unchanged. */
  readonly(): Field<T, W, I, O, true> {
    return new Field(this.codec, { ...this.flags, readonly: true });
  }

  /** Validates a wire or in-memory value (null allowed when optional); throws FieldIssue. */
  decode(value: unknown): T {
    if (value === null && this.flags.optional) return null as T;
    return this.codec.decode(value) as T;
  }

  /** Returns the wire form of an in-memory value. */
  encode(value: T): W {
    return (value === null ? null : this.codec.encode(value)) as W;
  }

  /** True when the key may be omitted (it has a default or is optional). */
  get omittable(): boolean {
    return this.flags.optional || this.flags.fallback !== null;
  }

  /** The value for an absent key: the default (fresh copy), null if optional, else undefined. */
  makeDefault(): T | undefined {
    const { fallback } = this.flags;
    if (fallback === null) return this.flags.optional ? (null as T) : undefined;
    if ('factory' in fallback) return this.codec.decode(fallback.factory()) as T;
    return (fallback.value === null ? null : this.codec.clone(fallback.value)) as T;
  }

  /** True when two in-memory values are equal. */
  equals(a: T, b: T): boolean {
    if (a === null || b === null) return a === b;
    return this.codec.equals(a, b);
  }

  /** Returns a copy sharing nothing mutable. */
  clone(value: T): T {
    return (value === null ? null : this.codec.clone(value)) as T;
  }

  /** JSON Schema of the wire form (nullable when optional). */
  schema(mode: SchemaMode): JsonSchema {
    const base = this.codec.schema(mode);
    return this.flags.optional ? nullable(base) : base;
  }
}

/** Any field, whatever its types. */
export type AnyField = Field<unknown, unknown, unknown, boolean, boolean>;

/** In-memory type of a field. */
export type FieldType<F> = F extends { readonly '~types': { t: infer T } } ? T : never;
/** Wire type of a field. */
export type FieldWire<F> = F extends { readonly '~types': { w: infer W } } ? W : never;
/** Constructor input type of a field. */
export type FieldInput<F> = F extends { readonly '~types': { i: infer I } } ? I : never;

function nullable(schema: JsonSchema): JsonSchema {
  const type = schema.type;
  if (typeof type === 'string' && schema.enum === undefined) return { ...schema, type: [type, 'null'] };
  if (typeof type === 'string' && Array.isArray(schema.enum)) {
    return { ...schema, type: [type, 'null'], enum: [...schema.enum, null] };
  }
  if (type === undefined && Object.keys(schema).length === 0) return schema;
  return { anyOf: [schema, { type: 'null' }] };
}

/** Options in force for the decode under way (nested concepts inherit `unknownKeys`). */
export const decodeContext: { unknownKeys: 'ignore' | 'reject' } = { unknownKeys: 'ignore' };
