/** Role assignments: give, remove and list them (routes and services' own code). */
import type { Knex } from 'knex';
import { FusionError } from '../../helper/errors.js';
import { deleteAssignment, selectAssignmentsOn, upsertAssignment } from './assignment-rows.js';
import type { CloudRoleAssignment } from '../../concept/cloud-access.js';
import type { CloudAssignment, PrincipalKind } from './assignment-rows.js';
import { selectEntry } from './entry-rows.js';

/** A user or a group an assignment names. */
export type CloudPrincipal = { user: string; group?: undefined } | { group: string; user?: undefined };

/** Reads and changes assignments against the configured roles. */
export class CloudRoles {
  readonly #knex: () => Knex;
  readonly #roles: Readonly<Record<string, unknown>>;

  constructor(knex: () => Knex, roles: Readonly<Record<string, unknown>>) {
    this.#knex = knex;
    this.#roles = roles;
  }

  /** The principal of a request body: exactly one of `user` and `group`. */
  principalOf(body: { user?: string | undefined; group?: string | undefined }): CloudPrincipal {
    const { user, group } = body;
    if ((user === undefined) === (group === undefined)) throw new FusionError('FUSION_ERR_VALIDATION', 'body: give exactly one of "user" and "group"');
    return user !== undefined ? { user } : { group: group! };
  }

  /** The assignments on `path` itself (which must exist, as for `assign`). */
  async list(path: string): Promise<CloudRoleAssignment[]> {
    await this.#exists(path);
    const rows = await selectAssignmentsOn(this.#knex(), path);
    return rows.map((row) => ({ path: `/${row.path}`, user: row.kind === 'user' ? row.principal : null, group: row.kind === 'group' ? row.principal : null, role: row.role }));
  }

  /** Gives `role` to `principal` on `path` (which must exist); FUSION_ERR_CLOUD_ROLE for an unknown role. */
  async assign(path: string, principal: CloudPrincipal, role: string): Promise<void> {
    if (!Object.hasOwn(this.#roles, role)) {
      throw new FusionError('FUSION_ERR_CLOUD_ROLE', `unknown role ${JSON.stringify(role)}: expected one of ${Object.keys(this.#roles).join(', ')}`);
    }
    await this.#exists(path);
    await upsertAssignment(this.#knex(), toAssignment(path, principal, role), new Date());
  }

  /** Removes `principal`'s assignment on `path` (inheritance comes back); 404 when there is none. */
  async remove(path: string, principal: CloudPrincipal): Promise<void> {
    const { kind, name } = split(principal);
    if (!(await deleteAssignment(this.#knex(), path, kind, name))) {
      throw new FusionError('FUSION_ERR_CLOUD_NOT_FOUND', `${kind} ${name} has no role assigned on /${path}`);
    }
  }

  async #exists(path: string): Promise<void> {
    if (path !== '' && (await selectEntry(this.#knex(), path)) === null) throw new FusionError('FUSION_ERR_CLOUD_NOT_FOUND', `no file or directory at /${path}`);
  }
}

function split(principal: CloudPrincipal): { kind: PrincipalKind; name: string } {
  return principal.user !== undefined ? { kind: 'user', name: principal.user } : { kind: 'group', name: principal.group };
}

function toAssignment(path: string, principal: CloudPrincipal, role: string): CloudAssignment {
  const { kind, name } = split(principal);
  return { path, kind, principal: name, role };
}
