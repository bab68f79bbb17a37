/** The cloud API: files and directories with role-based access control, local or S3. */
export { FusionCloudAPI, driverOf } from './impl.js';
export type { FusionCloudAPIOptions } from './impl.js';
export { readCloudConfig, parseCloudConfig, DEFAULT_CLOUD_ROLES } from './config.js';
export type { FusionCloudConfig, CloudS3Config } from './config.js';
export { CLOUD_PERMISSIONS, isCloudPermission } from './permissions.js';
export type { CloudPermission } from './permissions.js';
export { resolvePermissions } from './rbac.js';
export type { CloudCaller, EffectivePermissions, RbacSettings } from './rbac.js';
export type { CloudAssignment } from './assignment-rows.js';
export type { CloudEntry } from '../../concept/index.js';
export type { CloudPrincipal } from './roles.js';
export type { CloudDriver, OpenedContent, StagedFile } from './driver.js';
export { LocalCloudDriver } from './local-driver.js';
export { S3CloudDriver } from './s3-driver.js';
export type { S3CloudDriverOptions } from './s3-driver.js';
