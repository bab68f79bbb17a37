/**
 * What the server asks of an auth API. FusionAuthAPI implements it and installs itself with
 * `server.setAuthorizer(this)`; route() calls it for every route that is not public.
 */
import type { FastifyRequest } from 'fastify';
import type { Case, Identity } from '../../concept/index.js';

/** Facts about the request an authorization decision may use (`case_guid`, route GUID params...). */
export interface AuthorizeContext {
  case_guid?: string;
  is_delete_op?: boolean;
  [key: string]: unknown;
}

/** Decides who a request comes from and whether it may run an operation. */
export interface FusionAuthorizer {
  /** Returns the caller's Identity; throws FusionError FUSION_ERR_UNAUTHORIZED (401) or FUSION_ERR_FORBIDDEN (403). */
  authorize(request: FastifyRequest, operation: string, context?: AuthorizeContext): Promise<Identity>;
  /** True when `identity` may see `caseObj`: empty acs is open; managed (API-key) identities see all. */
  canAccessCase(identity: Identity, caseObj: Case): boolean;
  /** True for API-key (service-to-service) identities. */
  isManaged(identity: Identity): boolean;
}
