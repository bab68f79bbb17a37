/**
 * Request validation. fastify's default Ajv coerces types and drops unknown keys everywhere,
 * which would turn `{"name": 42}` into `"42"` and silently accept misspelled fields in a body.
 * Bodies are JSON, so they are validated strictly (no coercion, unknown keys refused where the
 * schema says so); params, query strings and headers are text, so they keep coercion.
 */
import { createRequire } from 'node:module';
import { Ajv } from 'ajv';
import type { Options as AjvOptions } from 'ajv';
import type { FormatsPlugin } from 'ajv-formats';
import type { FastifyInstance, FastifySchema, FastifySchemaCompiler } from 'fastify';

// ajv-formats is CommonJS with a default export that TypeScript cannot call under NodeNext.
const addFormats = createRequire(import.meta.url)('ajv-formats') as FormatsPlugin;

const COMMON: AjvOptions = { allErrors: false, useDefaults: true, removeAdditional: false, strict: false };

function makeAjv(coerceTypes: AjvOptions['coerceTypes']): Ajv {
  const ajv = new Ajv({ ...COMMON, coerceTypes });
  addFormats(ajv);
  return ajv;
}

/** Installs the validator compiler: strict for bodies, coercing for params, query and headers. */
export function installValidation(app: FastifyInstance): void {
  const strict = makeAjv(false);
  const coercing = makeAjv('array');
  const compiler: FastifySchemaCompiler<FastifySchema> = ({ schema, httpPart }) =>
    (httpPart === 'body' ? strict : coercing).compile(schema as object);
  app.setValidatorCompiler(compiler);
}
