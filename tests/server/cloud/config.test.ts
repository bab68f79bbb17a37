/** The `cloud` config keys of DESIGN.md section 11: defaults, and a ConfigError naming each bad key. */
import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '../../../src/helper/index.js';
import { DEFAULT_CLOUD_ROLES, readCloudConfig } from '../../../src/server/cloud/config.js';

describe('cloud config', () => {
  it('defaults: local driver, the default roles, creator_role owner, no default role, no anonymous permission, no limits', () => {
    const config = readCloudConfig({}, { baseDir: '/srv/app' });
    expect(config).toMatchObject({ driver: 'local', root: '/srv/app/cloud', defaultRole: null, creatorRole: 'owner', anonymousPermissions: [], maxFileBytes: null, quotaBytes: null, s3: null });
    expect(Object.keys(config.roles).sort()).toEqual(Object.keys(DEFAULT_CLOUD_ROLES).sort());
  });

  it('reads roles, default_role, creator_role, anonymous_permissions, limits and root', () => {
    const config = readCloudConfig(
      {
        roles: { boss: ['ASSIGN_ROLES', 'READ_FILE'], reader: ['READ_FILE'] },
        default_role: 'reader',
        creator_role: 'boss',
        anonymous_permissions: ['READ_TREE_DIRECTORY'],
        max_file_bytes: 1000,
        quota_bytes: 5000,
        root: 'files',
      },
      { baseDir: '/srv/app' },
    );
    expect(config).toMatchObject({
      roles: { boss: ['READ_FILE', 'ASSIGN_ROLES'], reader: ['READ_FILE'] },
      defaultRole: 'reader',
      creatorRole: 'boss',
      anonymousPermissions: ['READ_TREE_DIRECTORY'],
      maxFileBytes: 1000,
      quotaBytes: 5000,
      root: '/srv/app/files',
    });
    // Roles without `owner` and no creator_role: nobody is given a role on creation.
    expect(readCloudConfig({ roles: { reader: ['READ_FILE'] } }).creatorRole).toBeNull();
    expect(readCloudConfig({ creator_role: null }).creatorRole).toBeNull();
  });

  it('reads the s3 section (path style by default with an endpoint)', () => {
    const config = readCloudConfig({ driver: 's3', s3: { endpoint: 'http://127.0.0.1:9000', bucket: 'evidence', access_key: 'k', secret_key: 's' } });
    expect(config.s3).toEqual({ endpoint: 'http://127.0.0.1:9000', bucket: 'evidence', region: 'us-east-1', accessKey: 'k', secretKey: 's', forcePathStyle: true, prefix: '' });
    expect(readCloudConfig({ driver: 's3', s3: { bucket: 'evidence', region: 'eu-west-3', force_path_style: false } }).s3).toMatchObject({ region: 'eu-west-3', forcePathStyle: false });
  });

  it.each([
    ['an unknown permission in a role', { roles: { r: ['READ_FILE', 'FLY'] } }, 'cloud.roles.r'],
    ['a role that is not a list', { roles: { r: 'READ_FILE' } }, 'cloud.roles.r'],
    ['a default_role not in roles', { default_role: 'emperor' }, 'cloud.default_role'],
    ['a creator_role not in roles', { creator_role: 'emperor' }, 'cloud.creator_role'],
    ['an unknown anonymous permission', { anonymous_permissions: ['READ_FILE', 'FLY'] }, 'cloud.anonymous_permissions'],
    ['an unknown driver', { driver: 'ftp' }, 'cloud.driver'],
    ['s3 without a bucket', { driver: 's3', s3: { endpoint: 'http://127.0.0.1:9000' } }, 'cloud.s3.bucket'],
    ['s3 force_path_style not a boolean', { driver: 's3', s3: { bucket: 'evidence', force_path_style: 'sometimes' } }, 'cloud.s3.force_path_style'],
    ['a negative max_file_bytes', { max_file_bytes: -1 }, 'cloud.max_file_bytes'],
    ['a fractional quota_bytes', { quota_bytes: 1.5 }, 'cloud.quota_bytes'],
    ['an unknown key', { quota: 5 }, 'cloud.quota'],
  ])('%s: a ConfigError naming its key', (_name, raw, key) => {
    let error: unknown;
    try {
      readCloudConfig(raw);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(key);
  });
});
