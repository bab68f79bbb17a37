/** The cloud permissions (DESIGN.md section 11) and the sets roles are made of. */

import { CLOUD_PERMISSIONS } from '../../concept/cloud-access.js';
import type { CloudPermission } from '../../concept/cloud-access.js';

export { CLOUD_PERMISSIONS };
export type { CloudPermission };

/** True when `value` names a cloud permission. */
export function isCloudPermission(value: unknown): value is CloudPermission {
  return typeof value === 'string' && (CLOUD_PERMISSIONS as readonly string[]).includes(value);
}

/** `permissions` sorted in the canonical order, without duplicates. */
export function sortPermissions(permissions: Iterable<CloudPermission>): CloudPermission[] {
  const set = new Set(permissions);
  return CLOUD_PERMISSIONS.filter((permission) => set.has(permission));
}
