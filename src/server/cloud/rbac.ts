/**
 * Role resolution (DESIGN.md section 11): the nearest assignment on the path or an ancestor that
 * applies to the caller decides; at the same depth a user's assignment beats its groups'
 * (several groups there: the union of their roles). No assignment: `default_role` for an
 * authenticated caller, `anonymous_permissions` for an anonymous one. API-key clients have every
 * permission. The decision is pure (this file); CloudAccess loads the assignments it needs.
 */
import { CLOUD_PERMISSIONS, sortPermissions } from './permissions.js';
import type { CloudPermissionsInfo } from '../../concept/cloud-access.js';
import type { CloudPermission } from './permissions.js';
import type { CloudAssignment } from './assignment-rows.js';
import { selfAndAncestors } from './cloud-path.js';

/** Who asks: a user with groups, an API-key client, or nobody. */
export type CloudCaller =
  | { kind: 'user'; username: string; groups: readonly string[] }
  | { kind: 'managed'; username: string }
  | { kind: 'anonymous' };

/** What a caller may do on a path, and why: the wire form of `GET /api/cloud/permissions/<path>` (declared in the concept). */
export type EffectivePermissions = CloudPermissionsInfo;

/** The settings resolution depends on. */
export interface RbacSettings {
  roles: Readonly<Record<string, readonly CloudPermission[]>>;
  defaultRole: string | null;
  anonymousPermissions: readonly CloudPermission[];
}

/** Resolves `caller`'s permissions on `path` from the assignments on it and its ancestors. */
export function resolvePermissions(settings: RbacSettings, caller: CloudCaller, path: string, assignments: readonly CloudAssignment[]): EffectivePermissions {
  if (caller.kind === 'managed') return { role: null, permissions: [...CLOUD_PERMISSIONS], inherited_from: null };
  if (caller.kind === 'anonymous') return { role: null, permissions: sortPermissions(settings.anonymousPermissions), inherited_from: null };
  const groups = new Set(caller.groups);
  for (const candidate of selfAndAncestors(path)) {
    const here = assignments.filter((a) => a.path === candidate);
    const own = here.find((a) => a.kind === 'user' && a.principal === caller.username);
    if (own) return { role: own.role, permissions: permissionsOf(settings, [own.role]), inherited_from: candidate };
    const byGroup = here.filter((a) => a.kind === 'group' && groups.has(a.principal)).sort((a, b) => (a.principal < b.principal ? -1 : 1));
    if (byGroup.length > 0) {
      return { role: byGroup[0]!.role, permissions: permissionsOf(settings, byGroup.map((a) => a.role)), inherited_from: candidate };
    }
  }
  const role = settings.defaultRole;
  return { role, permissions: role === null ? [] : permissionsOf(settings, [role]), inherited_from: null };
}

/** The union of the permissions of `roles` (a role no longer configured gives none). */
function permissionsOf(settings: RbacSettings, roles: readonly string[]): CloudPermission[] {
  return sortPermissions(roles.flatMap((role) => (Object.hasOwn(settings.roles, role) ? settings.roles[role]! : [])));
}
