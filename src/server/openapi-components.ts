/**
 * Moves the named schemas of an OpenAPI document into `components.schemas`: each concept schema
 * (it carries `title: <ConceptName>`) is declared once and referenced with `$ref`; the error
 * envelope becomes `ErrorEnvelope`, narrowed per response to the codes that status carries.
 */
import { errorEnvelopeSchema } from './envelope.js';
import type { JsonSchema } from './envelope.js';
import { ERROR_ENVELOPE_TITLE } from './route-openapi.js';

const REF_PREFIX = '#/components/schemas/';

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Stable JSON of a schema (keys sorted), to tell whether two schemas of one title are the same. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (!isObject(value)) return JSON.stringify(value);
  return `{${Object.keys(value)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonical(value[key])}`)
    .join(',')}}`;
}

/** The suffix naming a concept schema's mode: input (create) and patch (update) refuse unknown keys. */
function modeSuffix(schema: JsonSchema): string {
  if (schema.additionalProperties !== false) return '';
  return Array.isArray(schema.required) && schema.required.length > 0 ? 'Input' : 'Patch';
}

class SchemaRegistry {
  readonly schemas: Record<string, JsonSchema> = {};
  readonly #byContent = new Map<string, string>();

  /** The component name of `schema` (titled `title`), registering it under a free name when new. */
  nameOf(title: string, schema: JsonSchema): string {
    const key = canonical(schema);
    const known = this.#byContent.get(key);
    if (known !== undefined) return known;
    const base = `${title}${modeSuffix(schema)}`;
    let name = base;
    for (let n = 2; name in this.schemas; n++) name = `${base}${n}`;
    this.schemas[name] = schema;
    this.#byContent.set(key, name);
    return name;
  }
}

/** Replaces titled schemas under `node` (depth first) by $refs, registering them in `registry`. */
function hoist(node: unknown, registry: SchemaRegistry): unknown {
  if (Array.isArray(node)) return node.map((item) => hoist(item, registry));
  if (!isObject(node)) return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) out[key] = hoist(value, registry);
  const title = out.title;
  // A titled schema is an object schema; `properties.title` (a property named title) is an object, not a string.
  if (typeof title !== 'string' || out.type !== 'object') return out;
  if (title === ERROR_ENVELOPE_TITLE) {
    const code = (out.properties as Record<string, JsonSchema> | undefined)?.code;
    const ref = { $ref: `${REF_PREFIX}${ERROR_ENVELOPE_TITLE}` };
    if (code?.enum === undefined) return ref;
    return { allOf: [ref, { type: 'object', properties: { code: { type: 'string', enum: code.enum } } }] };
  }
  return { $ref: `${REF_PREFIX}${registry.nameOf(title, out)}` };
}

/** Returns `doc` with its named schemas in `components.schemas`, referenced from the paths. */
export function hoistNamedSchemas(doc: Record<string, unknown>): Record<string, unknown> {
  const registry = new SchemaRegistry();
  const paths = hoist(doc.paths ?? {}, registry);
  const components = isObject(doc.components) ? doc.components : {};
  const existing = isObject(components.schemas) ? (components.schemas as Record<string, JsonSchema>) : {};
  const errorEnvelope = { ...errorEnvelopeSchema, title: ERROR_ENVELOPE_TITLE };
  return {
    ...doc,
    paths,
    components: { ...components, schemas: { ...existing, [ERROR_ENVELOPE_TITLE]: errorEnvelope, ...registry.schemas } },
  };
}
