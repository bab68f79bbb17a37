/** Checks of what the case API is given: a case class option, a request body. */
import { FusionError } from '../../helper/errors.js';
import type { FusionCaseClass } from './context.js';

/** True for Case or a subclass (it has fromJSON and jsonSchema). */
export function isCaseClass(value: unknown): value is FusionCaseClass {
  if (typeof value !== 'function') return false;
  const cls = value as unknown as Partial<Record<'fromJSON' | 'jsonSchema', unknown>>;
  return typeof cls.fromJSON === 'function' && typeof cls.jsonSchema === 'function';
}

/** The body as a JSON object, or FUSION_ERR_VALIDATION naming what came instead. */
export function bodyObject(body: unknown, conceptName: string): Record<string, unknown> {
  if (typeof body === 'object' && body !== null && !Array.isArray(body)) return body as Record<string, unknown>;
  const got = body === undefined ? 'no body' : Array.isArray(body) ? 'a list' : `${body === null ? 'null' : typeof body}`;
  throw new FusionError('FUSION_ERR_VALIDATION', `body: expected a JSON object (a ${conceptName}), got ${got}`);
}
