/**
 * The wire forms of the cloud API's access routes (DESIGN.md section 11), one declaration shared
 * by FusionCloudAPI and its client twin: the permissions, a caller's permissions on a path, a
 * role assignment, and a one-time link to a cloud file.
 */

/** Every permission a cloud role may hold, in the order documents list them. */
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

/** What a caller may do on a path, and why (`GET /api/cloud/permissions/<path>`). */
export interface CloudPermissionsInfo {
  /** The deciding role; null for API-key clients, anonymous callers, and no default role. */
  role: string | null;
  permissions: CloudPermission[];
  /** The path of the deciding assignment; null when no assignment decided. */
  inherited_from: string | null;
}

/** One role assignment on a path (`GET /api/cloud/roles/<path>`): a user's or a group's. */
export interface CloudRoleAssignment {
  /** `/a/b`, with its leading slash. */
  path: string;
  user: string | null;
  group: string | null;
  role: string;
}

/** What `POST /api/cloud/link/<path>` answers: the key, and the path of its GET. */
export interface CloudLink {
  guid: string;
  token: string;
  /** `/api/download/<guid>/<token>`. */
  url: string;
}
