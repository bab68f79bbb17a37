/** The cloud permissions (DESIGN.md section 11) and the sets roles are made of. */

/** Every permission a role may hold, in the order documents list them. */
export const CLOUD_PERMISSIONS = [
  'CREATE_FILE',
  'READ_FILE',
  'WRITE_FILE',
  'DELETE_FILE',
  'CREATE_SUB_DIRECTORY',
  'DELETE_SUB_DIRECTORY',
  'READ_TREE_DIRECTORY',
  'ASSIGN_ROLES',
] as const;

/** One cloud permission. */
export type CloudPermission = (typeof CLOUD_PERMISSIONS)[number];

/** True when `value` names a cloud permission. */
export function isCloudPermission(value: unknown): value is CloudPermission {
  return typeof value === 'string' && (CLOUD_PERMISSIONS as readonly string[]).includes(value);
}

/** `permissions` sorted in the canonical order, without duplicates. */
export function sortPermissions(permissions: Iterable<CloudPermission>): CloudPermission[] {
  const set = new Set(permissions);
  return CLOUD_PERMISSIONS.filter((permission) => set.has(permission));
}
