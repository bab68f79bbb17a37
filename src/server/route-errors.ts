/**
 * The errors a route can answer, derived from its RouteSpec (GUID params, body, authorization,
 * case loading) plus the codes its handler declares in `errors`: what the OpenAPI document lists.
 */
import { FUSION_ERRORS } from '../helper/errors.js';
import type { FusionErrorCode } from '../helper/errors.js';
import type { RouteSpec } from './host.js';

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** The spec fields the derivation reads (RouteSpec, or what a hand-built route declares). */
export type RouteErrorSpec = Pick<RouteSpec, 'method' | 'params' | 'public' | 'deleteOp' | 'caseOpenCheck' | 'body' | 'query' | 'rawBody' | 'errors'>;

/** Every FUSION_ERR_* code the route described by `spec` can answer, ordered by status then code. */
export function routeErrorCodes(spec: RouteErrorSpec): FusionErrorCode[] {
  const codes = new Set<FusionErrorCode>(['FUSION_ERR_INTERNAL']);
  const params = spec.params ?? [];
  if (params.length > 0) codes.add('FUSION_ERR_BAD_GUID');
  if (spec.body !== undefined || spec.query !== undefined) codes.add('FUSION_ERR_VALIDATION');
  const methods = Array.isArray(spec.method) ? spec.method : [spec.method];
  if (methods.some((method) => BODY_METHODS.has(String(method).toUpperCase()))) {
    // The JSON body parsers run for every route that may carry a body (body-parsers.ts), the body idle timeout too (request-timeouts.ts).
    codes.add('FUSION_ERR_REQUEST_TIMEOUT');
    if (spec.rawBody !== true) for (const code of ['FUSION_ERR_BAD_JSON', 'FUSION_ERR_BODY_TOO_LARGE', 'FUSION_ERR_UNSUPPORTED_MEDIA_TYPE'] as const) codes.add(code);
  }
  if (spec.public !== true) {
    for (const code of ['FUSION_ERR_UNAUTHORIZED', 'FUSION_ERR_FORBIDDEN', 'FUSION_ERR_IDP_UNAVAILABLE'] as const) codes.add(code);
  }
  if (params.includes('case_guid')) codes.add('FUSION_ERR_CASE_NOT_FOUND');
  if (spec.caseOpenCheck === true) codes.add('FUSION_ERR_CASE_CLOSED');
  for (const code of spec.errors ?? []) {
    if (!(code in FUSION_ERRORS)) throw new TypeError(`route ${String(spec.method)}: errors lists ${String(code)}, which is not a FUSION_ERR_* code`);
    codes.add(code);
  }
  return [...codes].sort((a, b) => FUSION_ERRORS[a].status - FUSION_ERRORS[b].status || a.localeCompare(b));
}

/** `codes` grouped by the HTTP status each is answered with, statuses ascending. */
export function codesByStatus(codes: readonly FusionErrorCode[]): Map<number, FusionErrorCode[]> {
  const groups = new Map<number, FusionErrorCode[]>();
  for (const code of codes) {
    const status = FUSION_ERRORS[code].status;
    const group = groups.get(status);
    if (group) group.push(code);
    else groups.set(status, [code]);
  }
  return new Map([...groups].sort(([a], [b]) => a - b));
}
