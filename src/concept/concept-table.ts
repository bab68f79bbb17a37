/** Per-class field tables, computed once, and the decode loop that uses them. */
import type { CompiledCodecs } from './concept-codegen.js';
import { compileCodecs } from './concept-codegen.js';
import { ConceptError } from './concept-error.js';
import type { Fields } from './concept-types.js';
import type { AnyField, JsonSchema, SchemaMode } from './field-base.js';
import { FieldIssue, describeValue } from './field-base.js';

/** One field of a concept, with what the hot loops need at hand. */
export interface FieldEntry {
  readonly key: string;
  readonly field: AnyField;
  readonly readonly: boolean;
  readonly omittable: boolean;
}

/** The precomputed table of a field map, with its compiled codecs. */
export interface FieldTable extends CompiledCodecs {
  readonly entries: readonly FieldEntry[];
  readonly byKey: ReadonlyMap<string, FieldEntry>;
  readonly schemas: Map<SchemaMode, JsonSchema>;
}

const tables = new WeakMap<Fields, FieldTable>();

/** Returns the (cached) table of a field map. */
export function tableOf(fields: Fields): FieldTable {
  let table = tables.get(fields);
  if (table === undefined) {
    const entries = Object.keys(fields).map((key) => {
      const field = fields[key]!;
      return { key, field, readonly: field.flags.readonly, omittable: field.omittable };
    });
    table = { entries, byKey: new Map(entries.map((e) => [e.key, e])), schemas: new Map(), ...compileCodecs(entries) };
    tables.set(fields, table);
  }
  return table;
}

/** Builds a ConceptError for `conceptName` from a FieldIssue (or rethrows anything else). */
export function toConceptError(conceptName: string, error: unknown, key?: string): never {
  if (error instanceof FieldIssue) {
    if (key !== undefined) error.path.unshift(key);
    throw new ConceptError({ conceptName, segments: error.path, detail: error.detail });
  }
  throw error;
}

/** Throws a ConceptError when `data` is not a plain object. */
export function checkObject(conceptName: string, data: unknown): asserts data is Record<string, unknown> {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new ConceptError({ conceptName, detail: `expected object, got ${describeValue(data)}` });
  }
}

/** Throws a ConceptError naming the first key of `data` that the table does not declare. */
export function rejectUnknownKeys(conceptName: string, table: FieldTable, data: Record<string, unknown>): void {
  for (const key of Object.keys(data)) {
    if (!table.byKey.has(key)) {
      const known = table.entries.map((e) => e.key).join(', ');
      throw new ConceptError({ conceptName, segments: [key], detail: `unknown field (known fields: ${known})` });
    }
  }
}

/**
 * Validates a whole document and returns the in-memory values by key. Absent keys get their
 * default (or null when optional); a missing required key is an error.
 */
export function decodeValues(
  conceptName: string,
  table: FieldTable,
  data: unknown,
  unknownKeys: 'ignore' | 'reject',
): Record<string, unknown> {
  checkObject(conceptName, data);
  if (unknownKeys === 'reject') rejectUnknownKeys(conceptName, table, data);
  try {
    return table.decode(data);
  } catch (error) {
    return toConceptError(conceptName, error);
  }
}

/** Builds the JSON Schema (draft-07) of a concept for one mode. */
export function buildSchema(conceptName: string, table: FieldTable, mode: SchemaMode): JsonSchema {
  let schema = table.schemas.get(mode);
  if (schema === undefined) {
    const properties: Record<string, JsonSchema> = {};
    const required: string[] = [];
    for (const { key, field } of table.entries) {
      properties[key] = field.schema(mode);
      if (mode === 'output' || (mode === 'input' && !field.omittable)) required.push(key);
    }
    schema = { title: conceptName, type: 'object', properties };
    if (required.length > 0) schema.required = required;
    if (mode !== 'output') schema.additionalProperties = false;
    table.schemas.set(mode, schema);
  }
  return structuredClone(schema);
}
