/**
 * route(): the one way built-in APIs and services declare a route. From a RouteSpec it builds
 * the fastify route (schemas for validation, fast serialization and OpenAPI) and a handler
 * whose prologue runs only the steps the spec asks for: GUID params, authorize, case loading.
 */
import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import type { Case, Identity } from '../concept/index.js';
import { FusionError } from '../helper/errors.js';
import type { AuthorizeContext } from './auth/authorizer.js';
import { responseSchemas, successEnvelope } from './envelope.js';
import type { JsonSchema } from './envelope.js';
import type { FusionHost, RouteContext, RouteHandler, RouteSpec } from './host.js';
import { routeErrorCodes } from './route-errors.js';
import { openApiTransform } from './route-openapi.js';

export type { RouteCase, RouteContext, RouteHandler, RouteSpec } from './host.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Returns `value` lowercased when it is a UUID; throws FUSION_ERR_BAD_GUID naming `name` otherwise. */
export function checkGuid(name: string, value: unknown): string {
  const guid = typeof value === 'string' ? value.toLowerCase() : '';
  if (!GUID.test(guid)) {
    const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 80)) : String(value);
    throw new FusionError('FUSION_ERR_BAD_GUID', `${name}: expected a UUID such as 0f6c2d9a-3b1e-4f5a-9c8d-7e6f5a4b3c2d, got ${shown}`);
  }
  return guid;
}

function checkSpec(spec: RouteSpec): void {
  const where = `route ${String(spec.method)} ${String(spec.url)}`;
  if (typeof spec.url !== 'string' || !spec.url.startsWith('/')) throw new TypeError(`${where}: url must start with '/'`);
  if (typeof spec.operation !== 'string' || spec.operation === '') {
    throw new TypeError(`${where}: operation must be a non-empty string (the name the authorizer checks)`);
  }
  for (const name of spec.params ?? []) {
    if (!new RegExp(`:${name}(?![A-Za-z0-9_])`).test(spec.url)) {
      throw new TypeError(`${where}: GUID param '${name}' does not appear in the url as ':${name}'`);
    }
  }
  if (spec.caseOpenCheck && !(spec.params ?? []).includes('case_guid')) {
    throw new TypeError(`${where}: caseOpenCheck needs 'case_guid' in params`);
  }
  routeErrorCodes(spec); // throws now on a code that is not in FUSION_ERRORS
}

function paramsSchema(names: readonly string[]): JsonSchema | undefined {
  if (names.length === 0) return undefined;
  const properties: Record<string, JsonSchema> = {};
  for (const name of names) properties[name] = { type: 'string', format: 'uuid', description: 'lowercase UUID' };
  return { type: 'object', properties, required: [...names] };
}

function defaultTags(url: string): string[] | undefined {
  const segment = url.split('/')[2];
  return url.startsWith('/api/') && segment && !segment.startsWith(':') ? [segment] : undefined;
}

/** Builds the fastify RouteOptions for `spec`; the handler's prologue holds only the steps the spec needs. */
export function buildRoute<B, Q, Pub extends boolean, const P extends readonly string[] = readonly string[]>(
  server: FusionHost,
  spec: RouteSpec<Pub, P>,
  handler: RouteHandler<B, Q, Pub, P>,
): RouteOptions {
  checkSpec(spec);
  const guidParams: string[] = [...(spec.params ?? [])];
  const isPublic = spec.public === true;
  const loadsCase = guidParams.includes('case_guid');
  const deleteOp = spec.deleteOp === true;
  const caseOpenCheck = spec.caseOpenCheck === true;
  const operation = spec.operation;

  async function authorize(request: FastifyRequest, params: Record<string, string>): Promise<Identity> {
    const authorizer = server.authorizer;
    if (!authorizer) {
      throw new FusionError(
        'FUSION_ERR_UNAUTHORIZED',
        `operation '${operation}' needs authentication, but no auth API is mounted: add an 'auth' section to the config`,
      );
    }
    const context: AuthorizeContext = { ...params, is_delete_op: deleteOp };
    return authorizer.authorize(request, operation, context);
  }

  async function loadCase(guid: string, identity: Identity | null): Promise<Case> {
    const caseObj = await server.loadCase(guid);
    if (!caseObj) throw new FusionError('FUSION_ERR_CASE_NOT_FOUND', `case ${guid} not found`);
    if (identity && server.authorizer && !server.authorizer.canAccessCase(identity, caseObj)) {
      throw new FusionError('FUSION_ERR_FORBIDDEN', `access to case ${guid} denied: its acs does not include you`);
    }
    if (caseOpenCheck && caseObj.closed) {
      throw new FusionError('FUSION_ERR_CASE_CLOSED', `case ${guid} is closed and cannot change`);
    }
    return caseObj;
  }

  async function routeHandler(request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    const params = request.params as Record<string, string>;
    for (let i = 0; i < guidParams.length; i++) {
      const name = guidParams[i]!;
      params[name] = checkGuid(name, params[name]);
    }
    const identity = isPublic ? null : await authorize(request, params);
    const caseObj = loadsCase ? await loadCase(params.case_guid!, identity) : undefined;
    const ctx = {
      request,
      reply,
      identity,
      case: caseObj,
      params,
      body: request.body as B,
      query: request.query as Q,
      server,
    } as RouteContext<B, Q, Pub, P>;
    const result = await handler(ctx);
    // A streaming handler (SSE, downloads) may return after its client left: nothing to send.
    if (result === reply || reply.sent || reply.raw.destroyed) return reply;
    return successEnvelope(result, reply.statusCode);
  }

  const schema: Record<string, unknown> = { response: responseSchemas(spec.response) };
  const params = paramsSchema(guidParams);
  if (params) schema.params = params;
  if (spec.body) schema.body = spec.body;
  if (spec.query) schema.querystring = spec.query;
  if (spec.summary) schema.summary = spec.summary;
  if (spec.description) schema.description = spec.description;
  const tags = spec.tags ?? defaultTags(spec.url);
  if (tags) schema.tags = tags;
  return { method: spec.method, url: spec.url, schema, handler: routeHandler, config: { swaggerTransform: openApiTransform(spec) } };
}
