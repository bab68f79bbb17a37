/** The method table: a declared method with its params check, ready for a connection to run. */
import { Ajv } from 'ajv';
import type { ValidateFunction } from 'ajv';
import { createRequire } from 'node:module';
import type { FormatsPlugin } from 'ajv-formats';
import { isFusionError } from '../../helper/errors.js';
import type { JsonSchema } from '../envelope.js';
import type { RpcHandler, RpcMethodOptions, RpcParamsClass } from './define.js';
import { protocolError } from './protocol.js';

// ajv-formats is CommonJS with a default export that TypeScript cannot call under NodeNext.
const addFormats = createRequire(import.meta.url)('ajv-formats') as FormatsPlugin;

let ajv: Ajv | null = null;

function compile(schema: JsonSchema): ValidateFunction {
  if (ajv === null) {
    ajv = new Ajv({ allErrors: false, coerceTypes: false, useDefaults: true, removeAdditional: false, strict: false });
    addFormats(ajv);
  }
  return ajv.compile(schema);
}

/** A method as connections run it. */
export interface RegisteredMethod {
  readonly name: string;
  readonly clientTypes: readonly string[] | undefined;
  readonly operation: string | undefined;
  /** Seconds before -32008 (default: rpc.call_timeout). */
  readonly timeout: number | undefined;
  /** Returns the params to hand to the handler; throws -32602 naming the field. */
  validate(params: unknown): unknown;
  readonly handler: RpcHandler<never, unknown>;
}

const METHOD_NAME = /^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*$/;

function isParamsClass(value: unknown): value is RpcParamsClass {
  return typeof value === 'function' && typeof (value as { fromJSON?: unknown }).fromJSON === 'function';
}

/** Builds the validator of `input` (JSON Schema or Concept class; none: any object). */
function validatorOf(input: RpcMethodOptions['input']): (params: unknown) => unknown {
  if (input === undefined) return (params) => params;
  if (isParamsClass(input)) {
    return (params) => {
      try {
        return input.fromJSON(params, { unknownKeys: 'reject' });
      } catch (error) {
        if (isFusionError(error)) throw protocolError.params(error.message);
        throw error;
      }
    };
  }
  const check = compile(input);
  return (params) => {
    if (check(params)) return params;
    const first = check.errors?.[0];
    const path = first?.instancePath ? `params${first.instancePath.replace(/\//g, '.')}` : 'params';
    const extra = first?.keyword === 'additionalProperties' ? ` (${String((first.params as { additionalProperty?: string }).additionalProperty)})` : '';
    throw protocolError.params(`${path}: ${first?.message ?? 'invalid'}${extra}`);
  };
}

/** Checks a declaration and builds its RegisteredMethod. */
export function registerMethod(name: string, options: RpcMethodOptions, handler: RpcHandler<never, unknown>): RegisteredMethod {
  if (typeof name !== 'string' || !METHOD_NAME.test(name)) throw new TypeError(`rpc.method: invalid method name ${JSON.stringify(name)} (dotted identifiers such as "chat.send")`);
  if (name.startsWith('rpc.')) throw new TypeError(`rpc.method: names starting with "rpc." are reserved (${name})`);
  if (typeof handler !== 'function') throw new TypeError(`rpc.method ${name}: the handler must be a function`);
  if (options.clientTypes !== undefined && (!Array.isArray(options.clientTypes) || options.clientTypes.some((t) => typeof t !== 'string'))) {
    throw new TypeError(`rpc.method ${name}: clientTypes must be a list of strings`);
  }
  if (options.timeout !== undefined && !(options.timeout > 0)) throw new TypeError(`rpc.method ${name}: timeout must be a number of seconds > 0`);
  return {
    name,
    clientTypes: options.clientTypes,
    operation: options.operation,
    timeout: options.timeout,
    validate: validatorOf(options.input),
    handler,
  };
}
