/**
 * The OpenAPI document, built by @fastify/swagger from the route schemas (route() puts the
 * envelope in every response schema and, through route-openapi.ts, the errors each route can
 * answer); the named schemas are then moved to components.schemas. JSON at /api/openapi.json,
 * UI at /api/docs (loaded on its first request: openapi-ui.ts).
 */
import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import type { FusionConfig } from './config.js';
import { FUSION_VERSION } from '../helper/version.js';
import { hoistNamedSchemas } from './openapi-components.js';
import { addLazyOpenApiUi } from './openapi-ui.js';

/** Path of the OpenAPI document. */
export const OPENAPI_PATH = '/api/openapi.json';
/** Path of the OpenAPI UI. */
export const DOCS_PATH = '/api/docs';

/** Registers the OpenAPI collector (before any route), the document route and the UI. */
export function installOpenApi(fastify: FastifyInstance, config: FusionConfig): void {
  const cookieName = config.auth?.cookie.name ?? 'FUSION_SESSION';
  fastify.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: config.info?.api ?? 'fusion service',
        version: config.info?.version ?? FUSION_VERSION,
        description: 'Every answer is an envelope: {status, data, count} on success, {status, message, code, request_id} on error.',
      },
      components: {
        securitySchemes: {
          apiKey: { type: 'apiKey', in: 'header', name: 'X-Fusion-API-Token' },
          session: { type: 'apiKey', in: 'cookie', name: cookieName, description: 'the session cookie POST /api/auth/login sets' },
          bearer: { type: 'http', scheme: 'bearer', description: 'an OpenID Connect access token (auth backend oidc with bearer_tokens)' },
        },
      },
    },
    transformObject: (input) => ('openapiObject' in input ? hoistNamedSchemas(input.openapiObject as Record<string, unknown>) : input.swaggerObject),
  });
  fastify.register(async (app) => {
    app.get(OPENAPI_PATH, { schema: { hide: true } }, async () => fastify.swagger());
    // @fastify/swagger-ui is loaded on the UI's first request (openapi-ui.ts).
    addLazyOpenApiUi(app, DOCS_PATH, ((options?: { yaml?: boolean }) => fastify.swagger(options as { yaml: true })) as FastifyInstance['swagger']);
  });
}
