/**
 * The edf_fusion wire envelope: `{status, data, count}` on success, `{status, message, code,
 * request_id}` on error. One place builds both, and one place describes them as JSON Schema
 * (for fast-json-stringify and the OpenAPI document).
 */

/** A success body: `data` and `count` are present only when there is data. */
export interface SuccessEnvelope {
  status: number;
  data?: unknown;
  count?: number;
}

/** An error body; never carries a stack or an internal message. */
export interface ErrorEnvelope {
  status: number;
  message: string;
  code: string;
  request_id: string;
  /** Seconds to wait, on a 429 that says (the `Retry-After` header, repeated). */
  retry_after?: number;
}

/** A JSON Schema object, as fastify and @fastify/swagger take it. */
export type JsonSchema = Record<string, unknown>;

/** Python's `len()` of a wire value: array length, object key count, string length; undefined otherwise. */
export function countOf(data: unknown): number | undefined {
  if (Array.isArray(data)) return data.length;
  if (typeof data === 'string') return codePointLength(data);
  if (data !== null && typeof data === 'object') {
    let n = 0;
    for (const key in data) if (Object.hasOwn(data, key)) n++;
    return n;
  }
  return undefined;
}

/** Number of Unicode code points in `text` (what Python's len() counts, not UTF-16 units). */
function codePointLength(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

/** Converts a handler's result to its wire form: objects with toJSON (Concepts) and arrays of them. */
export function toWire(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (item !== null && typeof item === 'object' && typeof (item as { toJSON?: unknown }).toJSON === 'function') {
        out ??= value.slice(0, i);
        out.push((item as { toJSON(): unknown }).toJSON());
      } else if (out) {
        out.push(item);
      }
    }
    return out ?? value;
  }
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  return typeof toJSON === 'function' ? (toJSON as () => unknown).call(value) : value;
}

/** Builds the success envelope for `value` (Concepts and arrays of Concepts are converted). */
export function successEnvelope(value: unknown, status = 200): SuccessEnvelope {
  if (value === undefined) return { status };
  const data = toWire(value);
  const count = countOf(data);
  return count === undefined ? { status, data } : { status, data, count };
}

/** Builds the error envelope. */
export function errorEnvelope(status: number, code: string, message: string, requestId: string): ErrorEnvelope {
  return { status, message, code, request_id: requestId };
}

/** Removes the keys a schema may carry only at its root (`$schema`, `$id`) so it can be nested. */
export function nestableSchema(schema: JsonSchema): JsonSchema {
  if (!('$schema' in schema) && !('$id' in schema)) return schema;
  const { $schema: _schema, $id: _id, ...rest } = schema;
  return rest;
}

/** JSON Schema of a success envelope whose `data` follows `dataSchema` (any JSON when omitted). */
export function successEnvelopeSchema(dataSchema?: JsonSchema): JsonSchema {
  return {
    type: 'object',
    description: 'Success envelope: count is len(data) for arrays, objects and strings.',
    properties: {
      status: { type: 'integer' },
      data: dataSchema ? nestableSchema(dataSchema) : {},
      count: { type: 'integer' },
    },
    required: ['status'],
  };
}

/** JSON Schema of the error envelope. */
export const errorEnvelopeSchema: JsonSchema = {
  type: 'object',
  description: 'Error envelope: code is a stable FUSION_ERR_* code; 5xx bodies never carry internals.',
  properties: {
    status: { type: 'integer' },
    message: { type: 'string' },
    code: { type: 'string' },
    request_id: { type: 'string' },
    retry_after: { type: 'integer', description: 'on a 429: seconds to wait, as the Retry-After header says' },
  },
  required: ['status', 'message', 'code', 'request_id'],
};

/** Response schemas for a route: the success envelope for 200 and the error envelope for 4xx/5xx. */
export function responseSchemas(dataSchema?: JsonSchema): Record<string, JsonSchema> {
  return { 200: successEnvelopeSchema(dataSchema), '4xx': errorEnvelopeSchema, '5xx': errorEnvelopeSchema };
}
