/**
 * The WebSocket upgrade at `GET /api/rpc`: its OpenAPI entry, and its authentication (a
 * browser's one-use ticket or the request's credentials, the Origin rule, then the authorizer).
 */
import type { FastifyRequest } from 'fastify';
import type { Identity } from '../../concept/index.js';
import { FusionError } from '../../helper/errors.js';
import type { FusionHost } from '../host.js';
import { openApiTransform } from '../route-openapi.js';
import type { SwaggerTransform } from '../route-openapi.js';
import type { FusionRpcConfig } from './config.js';
import { credentialHeaders, redeemTicket } from './tickets.js';

const rpcRouteDoc = openApiTransform({ method: 'GET', errors: ['FUSION_ERR_RPC_TICKET', 'FUSION_ERR_RPC_ORIGIN'] });
/** @fastify/websocket hides WebSocket routes from the OpenAPI document; this one is the API's entry point, so it is shown. */
export const showRpcRoute: SwaggerTransform = (input) => {
  const { schema, url } = rpcRouteDoc(input);
  const { hide: _hide, ...shown } = schema;
  return { schema: shown, url };
};

/** The identity each accepted upgrade was authenticated as (preValidation → handler). */
const upgradeIdentities = new WeakMap<FastifyRequest, Identity>();

/** The identity `request`'s upgrade was authenticated as, or undefined. */
export function upgradeIdentity(request: FastifyRequest): Identity | undefined {
  return upgradeIdentities.get(request);
}

/** preValidation of the upgrade: ticket or credentials, the Origin rule, then the authorizer. */
export async function authenticateUpgrade(server: FusionHost, config: () => FusionRpcConfig, request: FastifyRequest): Promise<void> {
  const ticket = (request.query as { ticket?: unknown }).ticket;
  if (ticket !== undefined) {
    const headers = typeof ticket === 'string' ? await redeemTicket(server.storage, ticket) : null;
    if (headers === null) throw new FusionError('FUSION_ERR_RPC_TICKET', 'the ticket is unknown, used or expired: get a new one from POST /api/rpc/ticket');
    for (const name of Object.keys(credentialHeaders(request))) delete request.headers[name];
    Object.assign(request.headers, headers);
  } else {
    checkOrigin(request, config);
  }
  const authorizer = server.authorizer;
  if (authorizer === null) throw new FusionError('FUSION_ERR_UNAUTHORIZED', 'the rpc API needs an auth section: no identity can be established');
  upgradeIdentities.set(request, await authorizer.authorize(request, 'rpc_connect'));
}

/** A cookie-authenticated upgrade from a foreign Origin is refused (cross-site WebSocket hijacking). */
function checkOrigin(request: FastifyRequest, config: () => FusionRpcConfig): void {
  const origin = request.headers.origin;
  const headers = request.headers;
  const byCookie = typeof headers.cookie === 'string' && headers['x-fusion-api-token'] === undefined && headers.authorization === undefined;
  if (!byCookie || origin === undefined) return;
  const own = `${request.protocol}://${request.host}`;
  if (origin === own || config().allowedOrigins.includes(origin)) return;
  throw new FusionError('FUSION_ERR_RPC_ORIGIN', `origin ${origin.slice(0, 100)} may not open this WebSocket with a cookie (list it in rpc.allowed_origins)`);
}
