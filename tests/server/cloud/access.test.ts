/**
 * The resolution rules through the routes and the public API on real storage: group assignments,
 * a user's beating a group's, a child's overriding and its removal restoring inheritance,
 * anonymous_permissions, no default role, and FusionCloudAPI's effectivePermissions,
 * canAuthorizePath, assignRole and removeRole for services' own routes.
 */
import { Readable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { Identity } from '../../../src/concept/identity.js';
import { FusionCloudAPI } from '../../../src/server/cloud/impl.js';
import { describeStorage } from '../../helpers/storage.js';
import { startCloud } from './harness.js';
import type { CloudHarness } from './harness.js';

describeStorage('cloud access rules through the routes', (getStorage) => {
  let cloud: CloudHarness;
  let api: FusionCloudAPI;

  beforeAll(async () => {
    cloud = await startCloud({ storage: getStorage() });
    api = cloud.server.server.findApi(FusionCloudAPI)!;
    await cloud.jane.createDirectory('/shared');
    await cloud.jane.createDirectory('/shared/inner');
    await cloud.jane.upload(Readable.from([Buffer.from('inside')]), '/shared/inner/f.txt');
  }, 60_000);
  afterAll(async () => {
    await cloud?.close();
  });

  it("a group's role applies to its members; a user's beats it at the same depth; a child's overrides; removing it restores inheritance", async () => {
    await expect(cloud.mike.list('/shared')).rejects.toMatchObject({ status: 403 });
    await cloud.jane.assignRole('/shared', { group: 'staff' }, 'editor');
    expect(await cloud.mike.permissions('/shared/inner/f.txt')).toMatchObject({ role: 'editor', inherited_from: 'shared' });
    await cloud.mike.upload(Readable.from([Buffer.from('by mike')]), '/shared/inner/g.txt');
    // Eve is not in staff: the default role still.
    expect(await cloud.eve.permissions('/shared/inner')).toMatchObject({ role: 'member', inherited_from: null });

    await cloud.jane.assignRole('/shared', { user: 'mike' }, 'viewer');
    expect(await cloud.mike.permissions('/shared/inner')).toMatchObject({ role: 'viewer', inherited_from: 'shared' });
    await expect(cloud.mike.upload(Readable.from([Buffer.from('x')]), '/shared/inner/h.txt')).rejects.toMatchObject({ status: 403, code: 'FUSION_ERR_FORBIDDEN' });

    await cloud.jane.assignRole('/shared/inner', { user: 'mike' }, 'member');
    expect(await cloud.mike.permissions('/shared/inner/f.txt')).toMatchObject({ role: 'member', inherited_from: 'shared/inner' });
    await expect(cloud.mike.list('/shared/inner')).rejects.toMatchObject({ status: 403 });

    await cloud.jane.removeRole('/shared/inner', { user: 'mike' });
    expect(await cloud.mike.permissions('/shared/inner/f.txt')).toMatchObject({ role: 'viewer', inherited_from: 'shared' });
    expect((await cloud.mike.list('/shared/inner')).map((e) => e.name)).toEqual(['f.txt', 'g.txt']);

    await cloud.jane.removeRole('/shared', { user: 'mike' });
    expect(await cloud.mike.permissions('/shared/inner')).toMatchObject({ role: 'editor', inherited_from: 'shared' });
    expect(await cloud.jane.roles('/shared')).toEqual(
      expect.arrayContaining([
        { path: '/shared', user: 'jane', group: null, role: 'owner' },
        { path: '/shared', user: null, group: 'staff', role: 'editor' },
      ]),
    );
    expect(await cloud.jane.roles('/shared')).toHaveLength(2);
    await cloud.jane.removeRole('/shared', { group: 'staff' });
    await expect(cloud.mike.list('/shared')).rejects.toMatchObject({ status: 403 });
  });

  it('GET roles needs ASSIGN_ROLES; assigning and removing need it too, and a refusal changes nothing', async () => {
    await expect(cloud.mike.roles('/shared')).rejects.toMatchObject({ status: 403, code: 'FUSION_ERR_FORBIDDEN' });
    await expect(cloud.mike.assignRole('/shared', { user: 'mike' }, 'owner')).rejects.toMatchObject({ status: 403 });
    await expect(cloud.mike.removeRole('/shared', { user: 'jane' })).rejects.toMatchObject({ status: 403 });
    await expect(cloud.anonymous.roles('/shared')).rejects.toMatchObject({ status: 401 });
    expect(await cloud.jane.roles('/shared')).toEqual([{ path: '/shared', user: 'jane', group: null, role: 'owner' }]);
    // API-key clients have every permission, ASSIGN_ROLES included, without any assignment.
    expect(await cloud.service.permissions('/shared')).toMatchObject({ role: null, inherited_from: null, permissions: expect.arrayContaining(['ASSIGN_ROLES', 'DELETE_FILE']) });
    expect(await cloud.service.roles('/shared')).toHaveLength(1);
  });

  it('a caller who may not write learns nothing of what is there: 403 for an existing file or directory, not 409', async () => {
    const tus = { 'tus-resumable': '1.0.0', 'upload-length': '1' };
    for (const [path, overwrite] of [['/shared/inner/f.txt', false], ['/shared/inner/f.txt', true], ['/shared/inner', false], ['/shared/inner/none.txt', false]] as const) {
      await expect(cloud.eve.upload(Readable.from([Buffer.from('x')]), path, { overwrite })).rejects.toMatchObject({ status: 403, code: 'FUSION_ERR_FORBIDDEN' });
      const metadata = `path ${Buffer.from(path).toString('base64')}${overwrite ? `,overwrite ${Buffer.from('true').toString('base64')}` : ''}`;
      const eve = (await cloud.server.login('eve')).client;
      await expect(eve.requestRaw('POST', '/api/cloud/uploads/', { headers: { ...tus, 'upload-metadata': metadata } })).rejects.toMatchObject({ status: 403 });
    }
    // Jane, who may write there, is told.
    await expect(cloud.jane.upload(Readable.from([Buffer.from('x')]), '/shared/inner/f.txt')).rejects.toMatchObject({ status: 409, code: 'FUSION_ERR_CLOUD_EXISTS' });
    expect((await cloud.jane.list('/shared/inner')).map((e) => e.name)).toEqual(['f.txt', 'g.txt']);
  });

  it('the public API decides as the routes do and its assignments are the routes\' assignments', async () => {
    const mike = new Identity({ username: 'mike', groups: ['staff'] });
    expect(await api.effectivePermissions(mike, '/shared/inner/f.txt')).toMatchObject({ role: 'member', inherited_from: null });
    expect(await api.canAuthorizePath(mike, 'shared/inner/f.txt', 'READ_FILE')).toBe(false);
    await api.assignRole('/shared/inner', { group: 'staff' }, 'viewer');
    expect(await api.canAuthorizePath(mike, '/shared/inner/f.txt', 'READ_FILE')).toBe(true);
    expect(await api.canAuthorizePath(mike, '/shared/inner/f.txt', 'WRITE_FILE')).toBe(false);
    expect(await cloud.mike.permissions('/shared/inner/f.txt')).toMatchObject({ role: 'viewer', inherited_from: 'shared/inner' });
    expect(await api.effectivePermissions(null, '/shared/inner')).toEqual({ role: null, permissions: [], inherited_from: null });
    await api.removeRole('/shared/inner', { group: 'staff' });
    expect(await api.canAuthorizePath(mike, '/shared/inner/f.txt', 'READ_FILE')).toBe(false);
    await expect(api.assignRole('/shared/missing', { user: 'mike' }, 'viewer')).rejects.toMatchObject({ code: 'FUSION_ERR_CLOUD_NOT_FOUND' });
    await expect(api.assignRole('/shared', { user: 'mike' }, 'emperor')).rejects.toMatchObject({ code: 'FUSION_ERR_CLOUD_ROLE' });
    await expect(api.effectivePermissions(mike, '../etc')).rejects.toMatchObject({ code: 'FUSION_ERR_CLOUD_PATH' });
    // Only Jane's (creator_role) is left on /shared/inner.
    expect(await cloud.jane.roles('/shared/inner')).toEqual([{ path: '/shared/inner', user: 'jane', group: null, role: 'owner' }]);
  });
});

describeStorage('cloud anonymous_permissions and no default role', (getStorage) => {
  let cloud: CloudHarness;

  beforeAll(async () => {
    cloud = await startCloud({ storage: getStorage(), cloud: { anonymous_permissions: ['READ_FILE', 'READ_TREE_DIRECTORY'], default_role: null } });
    await cloud.service.createDirectory('/public');
    await cloud.service.upload(Readable.from([Buffer.from('for everyone')]), '/public/readme.txt');
  }, 60_000);
  afterAll(async () => {
    await cloud?.close();
  });

  it('an anonymous caller holds exactly anonymous_permissions; an unassigned user holds nothing', async () => {
    expect(await cloud.anonymous.permissions('/public/readme.txt')).toEqual({ role: null, permissions: ['READ_FILE', 'READ_TREE_DIRECTORY'], inherited_from: null });
    expect((await cloud.anonymous.list('/public')).map((e) => e.name)).toEqual(['readme.txt']);
    await expect(cloud.anonymous.upload(Readable.from([Buffer.from('x')]), '/public/planted.txt')).rejects.toMatchObject({ status: 401 });
    await expect(cloud.anonymous.delete('/public/readme.txt')).rejects.toMatchObject({ status: 401 });
    expect(await cloud.eve.permissions('/public')).toEqual({ role: null, permissions: [], inherited_from: null });
    await expect(cloud.eve.list('/public')).rejects.toMatchObject({ status: 403 });
    expect((await cloud.service.list('/public')).map((e) => e.name)).toEqual(['readme.txt']);
  });
});
