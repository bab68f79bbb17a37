/**
 * The `cloud` section: roles, the default and creator roles, anonymous permissions, limits, and
 * the storage driver (`local` with `root`, or `s3` with `s3.*`). Read by FusionCloudAPI's factory,
 * so a bad key fails at start with a ConfigError naming it.
 */
import { ConfigReader } from '../../helper/config.js';
import { CLOUD_PERMISSIONS, isCloudPermission, sortPermissions } from './permissions.js';
import type { CloudPermission } from './permissions.js';

/** Connection settings of the S3 driver (`cloud.s3`). */
export interface CloudS3Config {
  /** Endpoint URL of a non-AWS server (radosgw, MinIO); undefined for AWS itself. */
  endpoint: string | undefined;
  /** The bucket holding the tree (created at start when missing). */
  bucket: string;
  /** Region (default us-east-1). */
  region: string;
  /** Access key id; undefined lets the SDK find credentials itself. */
  accessKey: string | undefined;
  /** Secret access key. */
  secretKey: string | undefined;
  /** Path-style URLs (`endpoint/bucket/key`); default true when an endpoint is given. */
  forcePathStyle: boolean;
  /** Key prefix under which the tree lives in the bucket (default none). */
  prefix: string;
}

/** The parsed `cloud` section. */
export interface FusionCloudConfig {
  /** Role name to its permissions. */
  roles: Record<string, CloudPermission[]>;
  /** Role of authenticated callers with no assignment on the path or its ancestors (null: none). */
  defaultRole: string | null;
  /** What callers without identity may do anywhere. */
  anonymousPermissions: CloudPermission[];
  /** Role given to the creator of a new directory or file (null: none). */
  creatorRole: string | null;
  /** Largest file accepted, in bytes (null: no limit). */
  maxFileBytes: number | null;
  /** Bytes of files each user may have created (null: no quota). API-key clients have none. */
  quotaBytes: number | null;
  /** `local` (default) or `s3`. */
  driver: 'local' | 's3';
  /** Directory of the local driver (default `./cloud`, relative to the config file). */
  root: string;
  /** Settings of the S3 driver (required with driver s3). */
  s3: CloudS3Config | null;
  /** Directory where tus keeps partial uploads of the local driver (default `<root>/.fusion-uploads`). */
  uploadDir: string | null;
  /** Seconds a tus upload may stay unfinished before it is removed with its partial data (0: never; default one day). */
  uploadExpiry: number;
}

/** Default of `cloud.upload_expiry`: one day. */
export const DEFAULT_UPLOAD_EXPIRY = 24 * 60 * 60;

/** The roles of an empty `cloud:` section. */
export const DEFAULT_CLOUD_ROLES: Readonly<Record<string, readonly CloudPermission[]>> = Object.freeze({
  owner: [...CLOUD_PERMISSIONS],
  editor: ['CREATE_FILE', 'READ_FILE', 'WRITE_FILE', 'DELETE_FILE', 'CREATE_SUB_DIRECTORY', 'DELETE_SUB_DIRECTORY', 'READ_TREE_DIRECTORY'],
  viewer: ['READ_FILE', 'READ_TREE_DIRECTORY'],
});

function parseRoles(reader: ConfigReader): Record<string, CloudPermission[]> {
  if (!reader.has('roles')) return Object.fromEntries(Object.entries(DEFAULT_CLOUD_ROLES).map(([name, list]) => [name, [...list]]));
  const section = reader.section('roles');
  const roles: Record<string, CloudPermission[]> = {};
  for (const name of section.keys()) {
    const list = section.stringList(name);
    const bad = list.find((permission) => !isCloudPermission(permission));
    if (bad !== undefined) throw section.error(name, `unknown permission ${JSON.stringify(bad)}; expected some of ${CLOUD_PERMISSIONS.join(', ')}`);
    roles[name] = sortPermissions(list as CloudPermission[]);
  }
  return roles;
}

function roleName(reader: ConfigReader, key: string, roles: Record<string, CloudPermission[]>, fallback: string | null): string | null {
  const raw = reader.raw(key);
  if (raw === null || (raw === undefined && fallback === null)) return null;
  const name = raw === undefined ? fallback! : reader.string(key, { minLength: 1 });
  if (!Object.hasOwn(roles, name)) throw reader.error(key, `role ${JSON.stringify(name)} is not in cloud.roles (${Object.keys(roles).join(', ')})`);
  return name;
}

function parseS3(reader: ConfigReader): CloudS3Config {
  const s3 = reader.section('s3');
  const endpoint = s3.optionalString('endpoint', { minLength: 1 });
  const bucket = s3.string('bucket', { minLength: 3 });
  return {
    endpoint,
    bucket,
    region: s3.optionalString('region', { minLength: 1 }) ?? 'us-east-1',
    accessKey: s3.optionalString('access_key', { minLength: 1 }),
    secretKey: s3.optionalString('secret_key', { minLength: 1 }),
    forcePathStyle: s3.boolean('force_path_style', { default: endpoint !== undefined }),
    prefix: (s3.optionalString('prefix') ?? '').replace(/^\/+|\/+$/g, ''),
  };
}

/** Parses the `cloud` section; throws ConfigError naming the bad key. */
export function parseCloudConfig(reader: ConfigReader): FusionCloudConfig {
  const roles = parseRoles(reader);
  const anonymous = reader.stringList('anonymous_permissions', { default: [] });
  const badAnonymous = anonymous.find((permission) => !isCloudPermission(permission));
  if (badAnonymous !== undefined) throw reader.error('anonymous_permissions', `unknown permission ${JSON.stringify(badAnonymous)}`);
  const driver = reader.oneOf('driver', ['local', 's3'] as const, { default: 'local' });
  const config: FusionCloudConfig = {
    roles,
    defaultRole: roleName(reader, 'default_role', roles, null),
    anonymousPermissions: sortPermissions(anonymous as CloudPermission[]),
    creatorRole: roleName(reader, 'creator_role', roles, Object.hasOwn(roles, 'owner') ? 'owner' : null),
    maxFileBytes: reader.optionalInteger('max_file_bytes', { min: 0 }) ?? null,
    quotaBytes: reader.optionalInteger('quota_bytes', { min: 0 }) ?? null,
    driver,
    root: reader.filePath('root', { default: 'cloud' }),
    s3: driver === 's3' || reader.has('s3') ? parseS3(reader) : null,
    uploadDir: reader.has('upload_dir') ? reader.filePath('upload_dir') : null,
    uploadExpiry: reader.optionalInteger('upload_expiry', { min: 0 }) ?? DEFAULT_UPLOAD_EXPIRY,
  };
  return config;
}

/** Options of readCloudConfig. */
export interface ReadCloudConfigOptions {
  /** Environment for `{ env: NAME }` values (default process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Directory relative paths resolve against. */
  baseDir?: string;
}

/** Parses a raw `cloud` section (as `FusionConfig.raw.cloud` holds it) and refuses unknown keys. */
export function readCloudConfig(raw: unknown, options: ReadCloudConfigOptions = {}): FusionCloudConfig {
  const reader = new ConfigReader(raw ?? {}, {
    key: 'cloud',
    ...(options.env ? { env: options.env } : {}),
    ...(options.baseDir ? { baseDir: options.baseDir } : {}),
  });
  const config = parseCloudConfig(reader);
  reader.assertNoUnknownKeys();
  return config;
}
