/** Types derived from a field map: instance data, constructor input and wire form. */
import type { AnyField, FieldInput, FieldType, FieldWire, SchemaMode } from './field-base.js';

/** A field map: concept key -> field declaration. */
export type Fields = { readonly [key: string]: AnyField };

/** Flattens an intersection for readable hover types. */
export type Simplify<T> = { [K in keyof T]: T[K] } & {};

type ReadonlyKeys<F> = { [K in keyof F]: F[K] extends { readonly '~types': { r: true } } ? K : never }[keyof F];
type OmittableKeys<F> = { [K in keyof F]: F[K] extends { readonly '~types': { o: true } } ? K : never }[keyof F];

/** In-memory data of a concept with fields `F` (readonly fields are `readonly`). */
export type ConceptData<F extends Fields> = Simplify<
  { readonly [K in ReadonlyKeys<F>]: FieldType<F[K]> } & { -readonly [K in Exclude<keyof F, ReadonlyKeys<F>>]: FieldType<F[K]> }
>;

/** Constructor input of a concept with fields `F`: defaulted and optional keys may be omitted. */
export type ConceptInput<F extends Fields> = Simplify<
  { [K in Exclude<keyof F, OmittableKeys<F>>]: FieldInput<F[K]> } & { [K in OmittableKeys<F>]?: FieldInput<F[K]> | undefined }
>;

/** Wire form (what `toJSON` returns) of a concept with fields `F`. */
export type ConceptWire<F extends Fields> = { [K in keyof F]: FieldWire<F[K]> };

/** `A` with the fields of `B` added or overriding. */
export type MergeFields<A extends Fields, B extends Fields> = {
  [K in keyof A | keyof B]: K extends keyof B ? B[K] : K extends keyof A ? A[K] : never;
};

/** Makes an override whose type does not narrow the inherited field's type a compile error. */
export type CompatibleFields<Base extends Fields, N extends Fields> = {
  [K in keyof N]: K extends keyof Base
    ? FieldType<N[K]> extends FieldType<Base[K]>
      ? N[K]
      : { error: `override of '${K & string}' must narrow the inherited field's type` }
    : N[K];
};

/** Options of `fromJSON` and `update`. */
export interface DecodeOptions {
  /** Keys the concept does not declare: ignored (default, as edf_fusion) or rejected. */
  unknownKeys?: 'ignore' | 'reject';
}

/** Options of `jsonSchema`. */
export interface SchemaOptions {
  /** 'output' (wire form, default), 'input' (defaults optional) or 'patch' (all optional). */
  mode?: SchemaMode;
}
