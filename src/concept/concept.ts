/** The Concept base class and `defineConcept`: fields declared once, everything else derived. */
import { ConceptError } from './concept-error.js';
import { dumpFile, loadFile } from '../helper/serializing.js';
import type {
  CompatibleFields,
  ConceptData,
  ConceptInput,
  ConceptWire,
  DecodeOptions,
  Fields,
  MergeFields,
  SchemaOptions,
} from './concept-types.js';
import { buildSchema, checkObject, decodeValues, rejectUnknownKeys, tableOf, toConceptError } from './concept-table.js';
import type { JsonSchema } from './field-base.js';
import { Field, decodeContext, describeValue } from './field-base.js';
import { narrowsField } from './field-composite.js';

/** Any concrete concept class (what `this` is in the static methods). */
export type ConceptConstructor<T extends Concept = Concept> = new (input: never) => T;

/** A concrete concept class together with its declarations. */
export type AnyConceptClass = ConceptConstructor & { readonly conceptName: string; readonly fields: Fields };

/** Instance type of a concept declared with fields `F`. */
export type ConceptInstance<F extends Fields> = { toJSON(): ConceptWire<F> } & ConceptData<F> & Concept;

/** Static side of a concept class declared with fields `F` and instances `I`. */
export interface ConceptStatics<F extends Fields> {
  /** The concept's name, used in error messages, schemas and the superjson registry. */
  readonly conceptName: string;
  /** The field declarations (read them, never change them). */
  readonly fields: F;
  /** Validates `data` (wire form) and returns an instance of the class it is called on. */
  fromJSON<T extends ConceptConstructor>(this: T, data: unknown, options?: DecodeOptions): InstanceType<T>;
  /** JSON Schema (draft-07) of the wire form in the given mode (default 'output'). */
  jsonSchema(options?: SchemaOptions): JsonSchema;
  /** Reads a .json, .yaml or .yml file and decodes it with `fromJSON`. */
  fromFile<T extends ConceptConstructor>(this: T, path: string, options?: DecodeOptions): Promise<InstanceType<T>>;
  /** Returns a new concept class with this class's fields and methods plus `fields`. */
  extend<T extends AnyConceptClass, N extends Fields>(
    this: T,
    name: string,
    fields: N & CompatibleFields<T['fields'], N>,
  ): ConceptClass<MergeFields<T['fields'], N>, { toJSON(): ConceptWire<MergeFields<T['fields'], N>> } & InstanceType<T> & ConceptData<N>>;
}

/** Constructor arguments: the input, which may be left out when every key may be omitted. */
export type ConceptArgs<F extends Fields> = Partial<ConceptInput<F>> extends ConceptInput<F> ? [input?: ConceptInput<F>] : [input: ConceptInput<F>];

/** A concept class: `new (input) => instance` plus the statics. */
export type ConceptClass<F extends Fields, I = ConceptInstance<F>> = (new (...args: ConceptArgs<F>) => I) & ConceptStatics<F>;

type RuntimeClass = (new (input: object) => Concept) & { readonly conceptName: string; readonly fields: Fields };

let trustedValues: Record<string, unknown> | null = null;

function runtime(cls: unknown): RuntimeClass {
  return cls as RuntimeClass;
}

/** Base of every concept. Declare concepts with `defineConcept`, never with instance fields. */
export abstract class Concept {
  /** The concept's name (each defined concept sets its own). */
  static readonly conceptName: string = 'Concept';
  /** The field declarations (each defined concept sets its own). */
  static readonly fields: Fields = {};

  /** Validates `input` (in-memory or wire values) and assigns every declared field. */
  constructor(input?: object) {
    const cls = runtime(new.target);
    const table = tableOf(cls.fields);
    const trusted = input !== null && input === trustedValues;
    trustedValues = null;
    const values = trusted
      ? (input as Record<string, unknown>)
      : decodeValues(cls.conceptName, table, input === undefined ? {} : input, 'ignore');
    table.assign(this, values);
  }

  /** Validates `data` (wire form) and returns an instance of the class it is called on. */
  static fromJSON<T extends ConceptConstructor>(this: T, data: unknown, options?: DecodeOptions): InstanceType<T> {
    const cls = runtime(this);
    const unknownKeys = options?.unknownKeys ?? decodeContext.unknownKeys;
    const previous = decodeContext.unknownKeys;
    decodeContext.unknownKeys = unknownKeys;
    let values: Record<string, unknown>;
    try {
      values = decodeValues(cls.conceptName, tableOf(cls.fields), data, unknownKeys);
    } finally {
      decodeContext.unknownKeys = previous;
    }
    trustedValues = values;
    return new cls(values) as InstanceType<T>;
  }

  /** JSON Schema (draft-07) of the wire form in the given mode (default 'output'). */
  static jsonSchema(options?: SchemaOptions): JsonSchema {
    const cls = runtime(this);
    return buildSchema(cls.conceptName, tableOf(cls.fields), options?.mode ?? 'output');
  }

  /** Reads a .json, .yaml or .yml file and decodes it with `fromJSON`. */
  static async fromFile<T extends ConceptConstructor>(this: T, path: string, options?: DecodeOptions): Promise<InstanceType<T>> {
    const data = await loadFile(path);
    return (this as unknown as { fromJSON(d: unknown, o?: DecodeOptions): InstanceType<T> }).fromJSON(data, options);
  }

  /** Returns a new concept class with this class's fields and methods plus `fields`. */
  static extend<T extends AnyConceptClass, N extends Fields>(
    this: T,
    name: string,
    fields: N & CompatibleFields<T['fields'], N>,
  ): ConceptClass<MergeFields<T['fields'], N>, { toJSON(): ConceptWire<MergeFields<T['fields'], N>> } & InstanceType<T> & ConceptData<N>> {
    const parent = runtime(this);
    checkDeclaration(name, fields);
    for (const key of Object.keys(fields)) {
      const inherited = parent.fields[key];
      if (inherited !== undefined && !narrowsField(fields[key]!, inherited)) {
        throw new TypeError(
          `${name}.${key}: a ${fields[key]!.codec.kind} field cannot override ${parent.conceptName}.${key} (${inherited.codec.kind}); ` +
            'an override must accept only values the inherited field accepts',
        );
      }
    }
    const merged: Fields = Object.freeze({ ...parent.fields, ...fields });
    return named(name, class extends parent {
      static override readonly conceptName: string = name;
      static override readonly fields: Fields = merged;
    }) as never;
  }

  /** The wire form: plain JSON-ready object (Dates as ISO strings, sets sorted, null for absent). */
  toJSON(): Record<string, unknown> {
    return tableOf(runtime(this.constructor).fields).encode(this);
  }

  /**
   * Applies a partial update (wire form) after validating all of it: on any error nothing
   * changes. Readonly keys are accepted only with their current value. Returns `this`.
   */
  update(patch: unknown, options?: DecodeOptions): this {
    const cls = runtime(this.constructor);
    const { conceptName } = cls;
    const table = tableOf(cls.fields);
    checkObject(conceptName, patch);
    if (options?.unknownKeys === 'reject') rejectUnknownKeys(conceptName, table, patch);
    const self = this as unknown as Record<string, unknown>;
    const changes: [string, unknown][] = [];
    for (const key of Object.keys(patch)) {
      const entry = table.byKey.get(key);
      const raw = patch[key];
      if (entry === undefined || raw === undefined) continue;
      let value: unknown;
      try {
        value = entry.field.decode(raw);
      } catch (error) {
        toConceptError(conceptName, error, key);
      }
      if (entry.readonly) {
        if (!entry.field.equals(self[key], value)) {
          throw new ConceptError({
            conceptName,
            segments: [key],
            code: 'FUSION_ERR_CONCEPT_READONLY',
            detail: `is readonly: cannot change ${describeValue(entry.field.encode(self[key]))} to ${describeValue(raw)}`,
          });
        }
        continue;
      }
      changes.push([key, value]);
    }
    for (const [key, value] of changes) self[key] = value;
    return this;
  }

  /** Returns a deep copy (same class). */
  clone(): this {
    const cls = runtime(this.constructor);
    const self = this as unknown as Record<string, unknown>;
    const values: Record<string, unknown> = {};
    for (const { key, field } of tableOf(cls.fields).entries) values[key] = field.clone(self[key]);
    trustedValues = values;
    return new cls(values) as this;
  }

  /** True when `other` is a concept of the same class with equal field values. */
  equals(other: unknown): boolean {
    if (other === this) return true;
    if (!(other instanceof Concept) || other.constructor !== this.constructor) return false;
    const self = this as unknown as Record<string, unknown>;
    const that = other as unknown as Record<string, unknown>;
    return tableOf(runtime(this.constructor).fields).entries.every(({ key, field }) => field.equals(self[key], that[key]));
  }

  /** Writes the wire form to a .json, .yaml or .yml file, atomically (temp file + rename). */
  async toFile(path: string): Promise<void> {
    await dumpFile(path, this.toJSON());
  }
}

const RESERVED = new Set(['__proto__', 'constructor', 'prototype']);

function checkDeclaration(name: string, fields: Fields): void {
  if (typeof name !== 'string' || !/^[A-Za-z_$][\w$]*$/.test(name)) {
    throw new TypeError(`concept name must be an identifier, got ${describeValue(name)}`);
  }
  if (typeof fields !== 'object' || fields === null) throw new TypeError(`${name}: fields must be an object of field declarations`);
  for (const key of Object.keys(fields)) {
    if (!(fields[key] instanceof Field)) {
      throw new TypeError(`${name}.${key}: expected a field declaration (field.string(), ...), got ${describeValue(fields[key])}`);
    }
    if (RESERVED.has(key) || key in Concept.prototype) {
      throw new TypeError(`${name}.${key}: '${key}' is reserved by Concept; choose another field name`);
    }
  }
}

function named<C extends object>(name: string, cls: C): C {
  Object.defineProperty(cls, 'name', { value: name });
  return cls;
}

/** Declares a concept class named `name` with `fields`; extend the result to add methods. */
export function defineConcept<F extends Fields>(name: string, fields: F): ConceptClass<F> {
  checkDeclaration(name, fields);
  const frozen: Fields = Object.freeze({ ...fields });
  return named(name, class extends Concept {
    static override readonly conceptName: string = name;
    static override readonly fields: Fields = frozen;
  }) as unknown as ConceptClass<F>;
}
