/**
 * Type-level tests of the cloud API's shared types: the client and the server answer the one
 * CloudEntry of fusion-framework/concept, and a link is the same CloudLink on both sides; the
 * permissions and role assignments are declared once, in the concept.
 * Checked by `tsc` (jest does not run this file).
 */
import type { CloudLink as ClientCloudLink, FusionCloudAPIClient } from '../../src/client/index.js';
import type { CloudEntry, CloudPermissionsInfo, CloudRoleAssignment } from '../../src/concept/index.js';
import type { CloudEntry as ServerCloudEntry, CloudLink, EffectivePermissions, FusionCloudAPI, FusionDownloadAPI } from '../../src/server/index.js';
import type { CloudPermissionsInfo as ClientPermissionsInfo, CloudRoleAssignment as ClientRoleAssignment } from '../../src/client/index.js';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(_value?: T): void {}

assertType<Equal<ServerCloudEntry, CloudEntry>>();
assertType<Equal<Awaited<ReturnType<FusionCloudAPIClient['list']>>, CloudEntry[]>>();
assertType<Equal<Awaited<ReturnType<FusionCloudAPIClient['upload']>>, CloudEntry>>();
assertType<Equal<Awaited<ReturnType<FusionCloudAPI['entry']>>, CloudEntry | null>>();
assertType<Equal<Awaited<ReturnType<FusionCloudAPIClient['link']>>, CloudLink>>();
assertType<Equal<ClientCloudLink, CloudLink>>();
assertType<Equal<ClientPermissionsInfo, CloudPermissionsInfo>>();
assertType<Equal<EffectivePermissions, CloudPermissionsInfo>>();
assertType<Equal<Awaited<ReturnType<FusionCloudAPI['effectivePermissions']>>, CloudPermissionsInfo>>();
assertType<Equal<Awaited<ReturnType<FusionCloudAPIClient['permissions']>>, CloudPermissionsInfo>>();
assertType<Equal<ClientRoleAssignment, CloudRoleAssignment>>();
assertType<Equal<Awaited<ReturnType<FusionCloudAPIClient['roles']>>, CloudRoleAssignment[]>>();
assertType<Equal<Parameters<FusionDownloadAPI['prepareCloud']>[1], string>>();
// @ts-expect-error a directory entry's type is 'directory', never 'folder'
const wrong: CloudEntry['type'] = 'folder';
void wrong;
