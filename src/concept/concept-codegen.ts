/**
 * Per-class compiled codecs. Looping over a field table reads and writes properties by
 * computed key, which V8 handles slowly; these functions are generated once per field map
 * with fixed keys (object literals, named property access) and are several times faster.
 * Keys are embedded as JSON string literals; field behaviour is passed in, never inlined.
 */
import type { AnyField } from './field-base.js';
import { FieldIssue } from './field-base.js';

/** The compiled codecs of one field map. */
export interface CompiledCodecs {
  /** Decodes a plain object into in-memory values; throws FieldIssue with the key in its path. */
  readonly decode: (data: Record<string, unknown>) => Record<string, unknown>;
  /** Encodes in-memory values (an instance) into a fresh wire object. */
  readonly encode: (self: object) => Record<string, unknown>;
  /** Copies every declared key from `values` onto `self`. */
  readonly assign: (self: object, values: Record<string, unknown>) => void;
}

function missing(field: AnyField): () => unknown {
  if (!field.omittable) {
    return () => {
      throw new FieldIssue('missing required field');
    };
  }
  return () => field.makeDefault();
}

function failAt(keys: readonly string[]): (error: unknown, index: number) => unknown {
  return (error, index) => {
    if (error instanceof FieldIssue) error.path.unshift(keys[index]!);
    return error;
  };
}

/** Compiles decode, encode and assign for the given ordered fields. */
export function compileCodecs(entries: readonly { key: string; field: AnyField }[]): CompiledCodecs {
  const keys = entries.map((e) => e.key);
  const lit = keys.map((k) => JSON.stringify(k));
  const fields = entries.map((e) => e.field);
  const defaults = fields.map(missing);

  const decodeBody = [
    'var k = 0;',
    keys.map((_, i) => `var r${i};`).join(' '),
    'try {',
    ...keys.map(
      (_, i) => `k = ${i}; var v${i} = data[${lit[i]}]; r${i} = v${i} === undefined ? m[${i}]() : f[${i}].decode(v${i});`,
    ),
    '} catch (e) { throw fail(e, k); }',
    `return {${keys.map((_, i) => `${lit[i]}: r${i}`).join(', ')}};`,
  ].join('\n');
  const encodeBody = `return {${keys
    .map((_, i) => (fields[i]!.codec.primitive ? `${lit[i]}: s[${lit[i]}]` : `${lit[i]}: f[${i}].encode(s[${lit[i]}])`))
    .join(', ')}};`;
  const assignBody = keys.map((_, i) => `s[${lit[i]}] = v[${lit[i]}];`).join('\n');

  const make = new Function('f', 'm', 'fail', `return [function decode(data) {\n${decodeBody}\n}, function encode(s) {\n${encodeBody}\n}, function assign(s, v) {\n${assignBody}\n}];`) as (
    f: readonly AnyField[],
    m: readonly (() => unknown)[],
    fail: (error: unknown, index: number) => unknown,
  ) => [CompiledCodecs['decode'], CompiledCodecs['encode'], CompiledCodecs['assign']];
  const [decode, encode, assign] = make(fields, defaults, failAt(keys));
  return { decode, encode, assign };
}
