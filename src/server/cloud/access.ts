/**
 * Who is calling and what they may do: the caller of a request (user, API-key client or
 * anonymous), their effective permissions on a path (assignments loaded from storage, resolved
 * by rbac.ts), and the checks routes make, each traced with traceUserOp.
 */
import type { FastifyRequest } from 'fastify';
import type { Knex } from 'knex';
import type { Identity } from '../../concept/index.js';
import { FusionError, isFusionError } from '../../helper/errors.js';
import { traceUserOp } from '../../helper/tracing.js';
import { API_TOKEN_HEADER } from '../auth/api-keys.js';
import { traceDecision } from '../auth/trace.js';
import type { FusionHost } from '../host.js';
import { selectAssignmentsFor } from './assignment-rows.js';
import type { CloudAssignment } from './assignment-rows.js';
import { selfAndAncestors } from './cloud-path.js';
import type { CloudPermission } from './permissions.js';
import { resolvePermissions } from './rbac.js';
import type { CloudCaller, EffectivePermissions, RbacSettings } from './rbac.js';

/** A request's caller with the Identity it came from (null when anonymous). */
export interface RequestCaller {
  caller: CloudCaller;
  identity: Identity | null;
}

/** The caller of `identity` (null: anonymous) as the resolver sees it. */
export function callerOf(host: FusionHost, identity: Identity | null): CloudCaller {
  if (identity === null) return { kind: 'anonymous' };
  if (host.authorizer?.isManaged(identity)) return { kind: 'managed', username: identity.username };
  return { kind: 'user', username: identity.username, groups: [...identity.groups] };
}

/** Effective permissions and the checks built on them. */
export class CloudAccess {
  readonly #host: FusionHost;
  readonly #settings: RbacSettings;

  constructor(host: FusionHost, settings: RbacSettings) {
    this.#host = host;
    this.#settings = settings;
  }

  /**
   * The caller of `request`: the auth API's identity, or anonymous when it has none (no session,
   * no API key). A wrong API key stays a 401: it is a broken client, not an anonymous one.
   */
  async requestCaller(request: FastifyRequest, operation: string, path: string): Promise<RequestCaller> {
    const authorizer = this.#host.authorizer;
    if (authorizer === null) return { caller: { kind: 'anonymous' }, identity: null };
    try {
      const identity = await authorizer.authorize(request, operation, { path });
      return { caller: callerOf(this.#host, identity), identity };
    } catch (error) {
      const anonymous = isFusionError(error) && error.code === 'FUSION_ERR_UNAUTHORIZED' && request.headers[API_TOKEN_HEADER] === undefined;
      if (anonymous) return { caller: { kind: 'anonymous' }, identity: null };
      throw error;
    }
  }

  /** The caller's permissions on `path` (assignments on it and its ancestors). */
  async effective(caller: CloudCaller, path: string, knex: Knex = this.#host.storage.knex): Promise<EffectivePermissions> {
    if (caller.kind !== 'user') return resolvePermissions(this.#settings, caller, path, []);
    const assignments = await selectAssignmentsFor(knex, selfAndAncestors(path), caller.username, caller.groups);
    return resolvePermissions(this.#settings, caller, path, assignments);
  }

  /** A resolver over preloaded assignments (for many paths at once, as the zip does). */
  resolverOver(caller: CloudCaller, assignments: readonly CloudAssignment[]): (path: string) => EffectivePermissions {
    return (path) => resolvePermissions(this.#settings, caller, path, assignments);
  }

  /**
   * Throws unless `who` holds `permission` on `path`: 401 for an anonymous caller (logging in may
   * help), 403 otherwise. Granted or not, the decision is traced (with the client of `request`).
   */
  async require(request: FastifyRequest | null, who: RequestCaller, permission: CloudPermission, path: string): Promise<EffectivePermissions> {
    const effective = await this.effective(who.caller, path);
    const granted = effective.permissions.includes(permission);
    const context = { path: `/${path}`, permission, role: effective.role, inherited_from: effective.inherited_from };
    const reason = granted ? undefined : `${permission} is not granted on /${path}`;
    const operation = `cloud_${permission.toLowerCase()}`;
    // A service's own call (no request): traced without the client's address.
    if (request === null) traceUserOp(who.identity, operation, { granted, context: reason === undefined ? context : { ...context, reason } });
    else traceDecision(request, who.identity, operation, context, granted, reason);
    if (!granted) {
      const code = who.caller.kind === 'anonymous' ? 'FUSION_ERR_UNAUTHORIZED' : 'FUSION_ERR_FORBIDDEN';
      const advice = who.caller.kind === 'anonymous' ? ': log in, anonymous callers may not' : '';
      throw new FusionError(code, `${reason}${advice}`);
    }
    return effective;
  }
}
