/**
 * FusionCloudAPI: a shared file tree under `/api/cloud/`, every operation authorized by roles on
 * paths (DESIGN.md section 11), bytes in a driver (local directory or S3 bucket), metadata and
 * assignments in storage so several instances share them. Services use `effectivePermissions`,
 * `canAuthorizePath`, `assignRole` and `removeRole` in their own routes.
 */
import type { FastifyInstance } from 'fastify';
import type { Identity } from '../../concept/index.js';
import { FusionError } from '../../helper/errors.js';
import { FusionAPI } from '../api.js';
import type { FusionHost } from '../host.js';
import { CloudAccess, callerOf } from './access.js';
import { parsePlainPath } from './cloud-path.js';
import { readCloudConfig } from './config.js';
import type { FusionCloudConfig } from './config.js';
import type { CloudDriver } from './driver.js';
import { CloudFiles } from './files.js';
import { LocalCloudDriver } from './local-driver.js';
import type { CloudPermission } from './permissions.js';
import type { EffectivePermissions } from './rbac.js';
import { CloudRoles } from './roles.js';
import type { CloudPrincipal } from './roles.js';
import { addCloudRoutes } from './routes.js';
import { S3CloudDriver } from './s3-driver.js';
import { mountTus } from './tus.js';
import { addZipRoute } from './zip-route.js';

/** Options of FusionCloudAPI. */
export interface FusionCloudAPIOptions {
  /** The parsed settings; default: the `cloud` section of the server's config. */
  config?: FusionCloudConfig;
  /** A driver of your own; default: the one `config.driver` names. */
  driver?: CloudDriver;
}

/** The driver `config` names. */
export function driverOf(config: FusionCloudConfig): CloudDriver {
  if (config.driver === 's3') {
    if (config.s3 === null) throw new FusionError('FUSION_ERR_CONFIG', 'cloud.s3: required with cloud.driver s3');
    return new S3CloudDriver(config.s3);
  }
  return new LocalCloudDriver(config.root);
}

/** Files and directories with role-based access control. */
export class FusionCloudAPI extends FusionAPI {
  /** The API name. */
  readonly name: string = 'cloud';
  readonly #options: FusionCloudAPIOptions;
  #config: FusionCloudConfig | null = null;
  #driver: CloudDriver | null = null;
  #host: FusionHost | null = null;
  #access: CloudAccess | null = null;
  #roles: CloudRoles | null = null;

  constructor(options: FusionCloudAPIOptions = {}) {
    super();
    this.#options = { ...options };
  }

  /** The settings in force (available after setup). */
  get config(): FusionCloudConfig {
    return this.#mounted().config;
  }

  /** The storage driver (available after setup). */
  get driver(): CloudDriver {
    return this.#mounted().driver;
  }

  #mounted(): { config: FusionCloudConfig; driver: CloudDriver; host: FusionHost; access: CloudAccess; roles: CloudRoles } {
    if (!this.#config || !this.#driver || !this.#host || !this.#access || !this.#roles) {
      throw new FusionError('FUSION_ERR_UNAVAILABLE', 'the cloud API is not mounted: pass it in FusionServer({ apis }) and start the server');
    }
    return { config: this.#config, driver: this.#driver, host: this.#host, access: this.#access, roles: this.#roles };
  }

  /** Adds the routes of DESIGN.md section 11 (tree, directory, file, zip, permissions, roles, uploads). */
  async setup(app: FastifyInstance, host: FusionHost): Promise<void> {
    const config = this.#options.config ?? readCloudConfig(host.config.raw.cloud, { baseDir: host.config.baseDir });
    const driver = this.#options.driver ?? driverOf(config);
    const access = new CloudAccess(host, config);
    const roles = new CloudRoles(() => host.storage.knex, config.roles);
    const files = new CloudFiles(host, config, access, driver);
    this.#config = config;
    this.#driver = driver;
    this.#host = host;
    this.#access = access;
    this.#roles = roles;
    addCloudRoutes(app, host, { access, files, roles });
    addZipRoute(app, host, { access, files, driver });
    await mountTus(app, host, { access, files, driver, config });
  }

  /** Prepares the driver (creates the root directory or the bucket). */
  override async start(): Promise<void> {
    await this.#mounted().driver.start();
  }

  /** Releases the driver. */
  override async close(): Promise<void> {
    await this.#driver?.close();
  }

  /** What `identity` (null: anonymous) may do on `path` (`/a/b` or `a/b`), and which assignment decided. */
  async effectivePermissions(identity: Identity | null, path: string): Promise<EffectivePermissions> {
    const { host, access } = this.#mounted();
    return access.effective(callerOf(host, identity), parsePlainPath(path).path);
  }

  /** True when `identity` (null: anonymous) holds `permission` on `path`. */
  async canAuthorizePath(identity: Identity | null, path: string, permission: CloudPermission): Promise<boolean> {
    return (await this.effectivePermissions(identity, path)).permissions.includes(permission);
  }

  /** Gives `role` to a user or a group on `path` (which must exist), replacing the one they had there. */
  async assignRole(path: string, principal: CloudPrincipal, role: string): Promise<void> {
    const { roles } = this.#mounted();
    await roles.assign(parsePlainPath(path).path, roles.principalOf(principal), role);
  }

  /** Removes the assignment of a user or a group on `path`: what the ancestors give comes back. */
  async removeRole(path: string, principal: CloudPrincipal): Promise<void> {
    const { roles } = this.#mounted();
    await roles.remove(parsePlainPath(path).path, roles.principalOf(principal));
  }
}
