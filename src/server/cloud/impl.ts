/**
 * FusionCloudAPI: a shared file tree under `/api/cloud/`, every operation authorized by roles on
 * paths (DESIGN.md section 11), bytes in a driver (local directory or S3 bucket), metadata and
 * assignments in storage so several instances share them. Services use `effectivePermissions`,
 * `canAuthorizePath`, `assignRole` and `removeRole` in their own routes.
 */
import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CloudEntry, Identity } from '../../concept/index.js';
import { FusionError } from '../../helper/errors.js';
import { FusionAPI } from '../api.js';
import type { FusionHost } from '../host.js';
import { CloudAccess, callerOf } from './access.js';
import { parsePlainPath } from './cloud-path.js';
import { readCloudConfig } from './config.js';
import type { FusionCloudConfig } from './config.js';
import type { CloudDriver, OpenedContent } from './driver.js';
import { selectEntry } from './entry-rows.js';
import { CloudFiles } from './files.js';
import { LocalCloudDriver } from './local-driver.js';
import type { CloudPermission } from './permissions.js';
import type { EffectivePermissions } from './rbac.js';
import { CloudRoles } from './roles.js';
import type { CloudPrincipal } from './roles.js';
import { addCloudRoutes } from './routes.js';
import { S3CloudDriver } from './s3-driver.js';
import { mountTus } from './tus.js';
import type { TusBackend } from './tus-store.js';
import { uploadExpiryTask } from './upload-expiry.js';
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
  #files: CloudFiles | null = null;
  #uploads: TusBackend | null = null;

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

  #mounted(): { config: FusionCloudConfig; driver: CloudDriver; host: FusionHost; access: CloudAccess; roles: CloudRoles; files: CloudFiles } {
    if (!this.#config || !this.#driver || !this.#host || !this.#access || !this.#roles || !this.#files) {
      throw new FusionError('FUSION_ERR_UNAVAILABLE', 'the cloud API is not mounted: pass it in FusionServer({ apis }) and start the server');
    }
    return { config: this.#config, driver: this.#driver, host: this.#host, access: this.#access, roles: this.#roles, files: this.#files };
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
    this.#files = files;
    addCloudRoutes(app, host, { access, files, roles });
    addZipRoute(app, host, { access, files, driver });
    this.#uploads = await mountTus(app, host, { access, files, driver, config });
    if (config.uploadExpiry > 0) host.addTask(uploadExpiryTask(this.#uploads, config.uploadExpiry, driver.kind === 's3'));
  }

  /**
   * Removes the tus uploads still unfinished `cloud.upload_expiry` seconds after their creation,
   * as of `now` (default: now), with their partial data; uploads a request is writing are left
   * for the next sweep. The task `cloud:upload-expiry` calls it; returns how many went.
   */
  async expireUploads(now: Date = new Date()): Promise<number> {
    const { config, host } = this.#mounted();
    if (config.uploadExpiry === 0 || this.#uploads === null) return 0;
    return (await this.#uploads.expire(host.storage, new Date(now.getTime() - config.uploadExpiry * 1000))).length;
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

  /**
   * The Identity of `request`'s caller: null when anonymous (no session, no API key); a wrong
   * API key is a 401. `operation` and `path` are what the authorizer is told.
   */
  async requestIdentity(request: FastifyRequest, operation: string, path: string): Promise<Identity | null> {
    return (await this.#mounted().access.requestCaller(request, operation, parsePlainPath(path).path)).identity;
  }

  /**
   * The file entry at `path` when `identity` (null: anonymous) holds READ_FILE on it, as
   * effectivePermissions resolves it; the decision is traced (with the client of `request` when
   * given). 400 for a bad path, 401 (anonymous) or 403 when refused, 404 when no file is there.
   */
  async readableFile(identity: Identity | null, path: string, request: FastifyRequest | null = null): Promise<CloudEntry> {
    const { host, files } = this.#mounted();
    return files.readable(request, { caller: callerOf(host, identity), identity }, parsePlainPath(path));
  }

  /** The stored entry at `path` (file or directory), or null; no permission check. */
  async entry(path: string): Promise<CloudEntry | null> {
    const { host } = this.#mounted();
    const checked = parsePlainPath(path).path;
    return checked === '' ? null : selectEntry(host.storage.knex, checked);
  }

  /**
   * File `path` opened as it is now (size and bytes of one version, whatever replaces it meanwhile),
   * its row read after opening, and its ETag when that row describes the opened version; no
   * permission check. Close the content unless you read it.
   */
  async openVersion(path: string): Promise<{ content: OpenedContent; entry: CloudEntry | null; etag: string | null }> {
    return this.#mounted().files.openVersion(parsePlainPath(path).path);
  }

  /** A stream of the bytes of file `path` (`start..end` inclusive when given) from the driver; no permission check. */
  async openFile(path: string, range?: { start: number; end: number }): Promise<Readable> {
    return this.#mounted().files.open(parsePlainPath(path).path, range);
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
