/**
 * What the OpenAPI document shows of a route, derived from its RouteSpec: one response per error
 * status naming its FUSION_ERR_* codes (Retry-After on 429), the 200's media type and headers,
 * the documented request headers and the security requirement. The route's runtime schemas are
 * untouched: @fastify/swagger applies this per route through `config.swaggerTransform`.
 */
import { FUSION_ERRORS } from '../helper/errors.js';
import type { FusionErrorCode } from '../helper/errors.js';
import { errorEnvelopeSchema } from './envelope.js';
import type { JsonSchema } from './envelope.js';
import type { RouteSpec } from './host.js';
import { codesByStatus, routeErrorCodes } from './route-errors.js';
import type { RouteErrorSpec } from './route-errors.js';

/** Title the error envelope carries in route documents; openapi.ts turns it into a $ref to that named schema. */
export const ERROR_ENVELOPE_TITLE = 'ErrorEnvelope';

/** An authorized route accepts any one of these (the schemes openapi.ts declares). */
export const AUTH_SECURITY: readonly Record<string, string[]>[] = [{ apiKey: [] }, { session: [] }, { bearer: [] }];

/** The spec fields the route document reads. */
export type RouteDocSpec = RouteErrorSpec & Pick<RouteSpec, 'produces' | 'headers' | 'responseHeaders'>;

/** The transform @fastify/swagger calls with a route's schema (its `config.swaggerTransform`). */
export type SwaggerTransform = (input: { schema: unknown; url: string }) => { schema: JsonSchema; url: string };

/** The documented answer for `status`: the error envelope whose `code` is one of `codes`, each with its hint. */
export function errorResponse(status: number, codes: readonly FusionErrorCode[]): JsonSchema {
  const properties = errorEnvelopeSchema.properties as Record<string, JsonSchema>;
  const response: JsonSchema = {
    ...errorEnvelopeSchema,
    title: ERROR_ENVELOPE_TITLE,
    description: codes.map((code) => `- ${code}: ${FUSION_ERRORS[code].hint}`).join('\n'),
    properties: { ...properties, code: { type: 'string', enum: [...codes] } },
  };
  if (status === 429) response.headers = { 'Retry-After': { type: 'integer', minimum: 0, description: 'seconds to wait before trying again' } };
  return response;
}

/** The security requirement: authorized routes need a scheme; public ones that may answer 401 take one optionally. */
function securityOf(spec: RouteDocSpec, codes: readonly FusionErrorCode[]): Record<string, string[]>[] {
  if (spec.public !== true) return [...AUTH_SECURITY];
  return codes.includes('FUSION_ERR_UNAUTHORIZED') ? [{}, ...AUTH_SECURITY] : [];
}

/** The schema the OpenAPI document shows for a route with runtime `schema` declared by `spec`. */
export function openApiSchema(schema: JsonSchema, spec: RouteDocSpec): JsonSchema {
  const response: Record<string, JsonSchema> = {};
  for (const [status, value] of Object.entries((schema.response ?? {}) as Record<string, JsonSchema>)) {
    // The runtime's 4xx/5xx catch-alls give way to one response per status below.
    if (!/^[45]xx$/i.test(status)) response[status] = value;
  }
  if (spec.produces !== undefined) {
    response[200] = { description: `A ${spec.produces} stream`, content: { [spec.produces]: { schema: { type: 'string' } } } };
  }
  if (spec.responseHeaders !== undefined && response[200] !== undefined) response[200] = { ...response[200], headers: spec.responseHeaders };
  const codes = routeErrorCodes(spec);
  for (const [status, group] of codesByStatus(codes)) response[status] = errorResponse(status, group);
  const documented: JsonSchema = { ...schema, response, security: securityOf(spec, codes) };
  if (spec.headers !== undefined) documented.headers = { type: 'object', properties: spec.headers };
  return documented;
}

/** The `config.swaggerTransform` of a route declared by `spec` (computed once, on the first document). */
export function openApiTransform(spec: RouteDocSpec): SwaggerTransform {
  return ({ schema, url }) => ({ schema: openApiSchema((schema ?? {}) as JsonSchema, spec), url });
}
