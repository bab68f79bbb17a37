import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { describeStorage } from '../../helpers/storage.js';
import { startCloud } from './harness.js';
import type { CloudHarness } from './harness.js';

describeStorage('cloud routes through the client', (getStorage) => {
  let cloud: CloudHarness;
  let work: string;

  beforeAll(async () => {
    cloud = await startCloud({ storage: getStorage() });
    work = await mkdtemp(join(tmpdir(), 'fusion-cloud-work-'));
  }, 60_000);
  afterAll(async () => {
    await cloud?.close();
    await rm(work, { recursive: true, force: true });
  });

  it('Jane creates a directory, owns it, uploads a file inside; Mike gets viewer and can read but not write', async () => {
    const dir = await cloud.jane.createDirectory('/janes_dir');
    expect(dir).toMatchObject({ name: 'janes_dir', path: 'janes_dir', type: 'directory', creator: 'jane' });
    expect(await cloud.jane.permissions('/janes_dir')).toMatchObject({ role: 'owner', inherited_from: 'janes_dir' });
    const local = join(work, 'report.txt');
    await writeFile(local, 'the report');
    const file = await cloud.jane.upload(local, '/janes_dir/report.txt');
    expect(file).toMatchObject({ path: 'janes_dir/report.txt', size: 10, creator: 'jane', type: 'file' });
    expect(file.sha256).toBe(createHash('sha256').update('the report').digest('hex'));

    await expect(cloud.mike.list('/janes_dir')).rejects.toMatchObject({ status: 403, code: 'FUSION_ERR_FORBIDDEN' });
    await cloud.jane.assignRole('/janes_dir', { user: 'mike' }, 'viewer');
    expect((await cloud.mike.list('/janes_dir')).map((e) => e.name)).toEqual(['report.txt']);
    const copy = join(work, 'copy.txt');
    await cloud.mike.download('/janes_dir/report.txt', copy);
    expect(await readFile(copy, 'utf8')).toBe('the report');
    await expect(cloud.mike.upload(local, '/janes_dir/other.txt')).rejects.toMatchObject({ status: 403 });
    await expect(cloud.mike.upload(local, '/janes_dir/report.txt', { overwrite: true })).rejects.toMatchObject({ status: 403 });
    await expect(cloud.mike.delete('/janes_dir/report.txt')).rejects.toMatchObject({ status: 403 });
    await expect(cloud.anonymous.list('/janes_dir')).rejects.toMatchObject({ status: 401, code: 'FUSION_ERR_UNAUTHORIZED' });
    await expect(cloud.anonymous.download('/janes_dir/report.txt', join(work, 'x'))).rejects.toMatchObject({ status: 401 });

    await cloud.jane.removeRole('/janes_dir', { user: 'mike' });
    await expect(cloud.mike.list('/janes_dir')).rejects.toMatchObject({ status: 403 });
    expect(await cloud.jane.roles('/janes_dir')).toEqual([{ path: '/janes_dir', user: 'jane', group: null, role: 'owner' }]);
  });
});

describeStorage('cloud routes: directories, files, ranges, zip, limits', (getStorage) => {
  let cloud: CloudHarness;
  let work: string;

  beforeAll(async () => {
    cloud = await startCloud({ storage: getStorage(), cloud: { max_file_bytes: 4096, quota_bytes: 6000 } });
    work = await mkdtemp(join(tmpdir(), 'fusion-cloud-work-'));
  }, 60_000);
  afterAll(async () => {
    await cloud?.close();
    await rm(work, { recursive: true, force: true });
  });

  it('creates nested directories, refuses a second create (409) and a missing parent (404), lists sorted entries', async () => {
    await cloud.jane.createDirectory('/tree');
    await cloud.jane.createDirectory('/tree/sub');
    await expect(cloud.jane.createDirectory('/tree')).rejects.toMatchObject({ status: 409, code: 'FUSION_ERR_CLOUD_EXISTS' });
    await expect(cloud.jane.createDirectory('/nowhere/sub')).rejects.toMatchObject({ status: 404, code: 'FUSION_ERR_CLOUD_NOT_FOUND' });
    await cloud.jane.upload(Readable.from([Buffer.from('b')]), '/tree/b.txt', { length: 1 });
    await cloud.jane.upload(Readable.from([Buffer.from('a')]), '/tree/a.txt');
    expect((await cloud.jane.list('/tree')).map((e) => [e.name, e.type])).toEqual([
      ['a.txt', 'file'],
      ['b.txt', 'file'],
      ['sub', 'directory'],
    ]);
    await expect(cloud.jane.list('/tree/a.txt')).rejects.toMatchObject({ status: 404 });
  });

  it('refuses to replace a file without overwrite (409) and replaces it with overwrite', async () => {
    await cloud.jane.createDirectory('/ow');
    await cloud.jane.upload(Readable.from([Buffer.from('one')]), '/ow/f');
    await expect(cloud.jane.upload(Readable.from([Buffer.from('two')]), '/ow/f')).rejects.toMatchObject({ status: 409, code: 'FUSION_ERR_CLOUD_EXISTS' });
    const entry = await cloud.jane.upload(Readable.from([Buffer.from('three')]), '/ow/f', { overwrite: true });
    expect(entry).toMatchObject({ size: 5, creator: 'jane' });
    await cloud.jane.download('/ow/f', join(work, 'ow'));
    expect(await readFile(join(work, 'ow'), 'utf8')).toBe('three');
  });

  it('serves Range requests (206) and refuses ranges past the end (416, Content-Range */size)', async () => {
    await cloud.jane.createDirectory('/range');
    await cloud.jane.upload(Readable.from([Buffer.from('0123456789')]), '/range/f');
    const client = cloud.server.clients.service.client;
    const part = await client.requestRaw('GET', '/api/cloud/file/range/f', { headers: { range: 'bytes=2-4' } });
    expect(part.statusCode).toBe(206);
    expect(part.headers['content-range']).toBe('bytes 2-4/10');
    expect(await part.body.text()).toBe('234');
    await expect(client.requestRaw('GET', '/api/cloud/file/range/f', { headers: { range: 'bytes=20-' } })).rejects.toMatchObject({
      status: 416,
      code: 'FUSION_ERR_RANGE_NOT_SATISFIABLE',
    });
  });

  it('deletes an empty directory, refuses a non-empty one without recursive (409), deletes it with recursive', async () => {
    await cloud.jane.createDirectory('/deltop');
    await cloud.jane.createDirectory('/deltop/del');
    await cloud.jane.createDirectory('/deltop/del/empty');
    await cloud.jane.deleteDirectory('/deltop/del/empty');
    await cloud.jane.upload(Readable.from([Buffer.from('x')]), '/deltop/del/x');
    await expect(cloud.jane.deleteDirectory('/deltop/del')).rejects.toMatchObject({ status: 409, code: 'FUSION_ERR_CLOUD_NOT_EMPTY' });
    // DELETE_SUB_DIRECTORY is checked on the parent: Jane's default role at the root has none.
    await expect(cloud.jane.deleteDirectory('/deltop', { recursive: true })).rejects.toMatchObject({ status: 403 });
    await cloud.jane.deleteDirectory('/deltop/del', { recursive: true });
    expect(await cloud.jane.list('/deltop')).toEqual([]);
    await expect(stat(join(cloud.root, 'deltop', 'del'))).rejects.toMatchObject({ code: 'ENOENT' });
    // Assignments below a deleted tree go with it: Jane's role on a new /deltop/del comes from /deltop.
    await cloud.service.createDirectory('/deltop/del');
    expect(await cloud.jane.permissions('/deltop/del')).toMatchObject({ role: 'owner', inherited_from: 'deltop' });
  });

  it('zips only what the caller may read', async () => {
    await cloud.jane.createDirectory('/zip');
    await cloud.jane.createDirectory('/zip/open');
    await cloud.jane.createDirectory('/zip/closed');
    await cloud.jane.upload(Readable.from([Buffer.from('top')]), '/zip/top.txt');
    await cloud.jane.upload(Readable.from([Buffer.from('in open')]), '/zip/open/a.txt');
    await cloud.jane.upload(Readable.from([Buffer.from('secret')]), '/zip/open/secret.txt');
    await cloud.jane.upload(Readable.from([Buffer.from('closed')]), '/zip/closed/b.txt');
    await cloud.jane.assignRole('/zip', { user: 'mike' }, 'viewer');
    await cloud.jane.assignRole('/zip/closed', { user: 'mike' }, 'member');
    await cloud.jane.assignRole('/zip/open/secret.txt', { user: 'mike' }, 'member');
    const mine = join(work, 'jane.zip');
    await cloud.jane.downloadZip('/zip', mine);
    expect(await zipNames(mine)).toEqual(['closed/', 'closed/b.txt', 'open/', 'open/a.txt', 'open/secret.txt', 'top.txt']);
    const his = join(work, 'mike.zip');
    await cloud.mike.downloadZip('/zip', his);
    expect(await zipNames(his)).toEqual(['open/', 'open/a.txt', 'top.txt']);
    await expect(cloud.eve.downloadZip('/zip', join(work, 'eve.zip'))).rejects.toMatchObject({ status: 403 });
  });

  it('refuses a file over max_file_bytes (413) before reading it, and while streaming when no length is announced', async () => {
    await cloud.jane.createDirectory('/big');
    const big = Buffer.alloc(5000, 1);
    await expect(cloud.jane.upload(Readable.from([big]), '/big/announced', { length: big.length })).rejects.toMatchObject({ status: 413, code: 'FUSION_ERR_CLOUD_TOO_LARGE' });
    await expect(cloud.jane.upload(Readable.from([big.subarray(0, 2500), big.subarray(2500)]), '/big/streamed')).rejects.toMatchObject({ status: 413 });
    expect(await cloud.jane.list('/big')).toEqual([]);
    expect(await stagingFiles(cloud.root)).toEqual([]);
  });

  it("refuses what would pass the user's quota (413) and counts only that user's files", async () => {
    await cloud.eve.createDirectory('/quota');
    await cloud.eve.upload(Readable.from([Buffer.alloc(4000)]), '/quota/one');
    await expect(cloud.eve.upload(Readable.from([Buffer.alloc(3000)]), '/quota/two', { length: 3000 })).rejects.toMatchObject({ status: 413, code: 'FUSION_ERR_CLOUD_QUOTA' });
    await expect(cloud.eve.upload(Readable.from([Buffer.alloc(1500), Buffer.alloc(1500)]), '/quota/three')).rejects.toMatchObject({ status: 413, code: 'FUSION_ERR_CLOUD_QUOTA' });
    // Replacing her own file counts the new size instead of the old one.
    await cloud.eve.upload(Readable.from([Buffer.alloc(4090)]), '/quota/one', { overwrite: true });
    // The API key has no quota (only max_file_bytes).
    await cloud.service.upload(Readable.from([Buffer.alloc(4000)]), '/quota/service');
    expect((await cloud.eve.list('/quota')).map((e) => e.name)).toEqual(['one', 'service']);
  });

  it('records the traced decisions (traceUserOp) of cloud checks', () => {
    expect(cloud.audit).toEqual(expect.arrayContaining([expect.objectContaining({ user: 'eve', operation: 'cloud_create_file', granted: true })]));
  });
});

async function zipNames(path: string): Promise<string[]> {
  const zip = await yauzl.openPromise(path, { lazyEntries: true });
  const names: string[] = [];
  await new Promise<void>((done, fail) => {
    zip.on('entry', (entry: { fileName: string }) => {
      names.push(entry.fileName);
      zip.readEntry();
    });
    zip.on('end', () => done());
    zip.on('error', fail);
    zip.readEntry();
  });
  zip.close();
  return names.sort();
}

async function stagingFiles(root: string): Promise<string[]> {
  return readdir(join(root, '.fusion-staging'));
}
