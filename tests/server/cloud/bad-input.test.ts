/**
 * Bad input on every cloud route (besides hostile paths, hostile.test.ts): wrong query flags,
 * role bodies that are not JSON objects, a path of the wrong kind (a file where a directory is
 * needed and back), missing targets, bad tus headers. Each answers a 4xx envelope with a
 * FUSION_ERR_* code and changes nothing: the tree, the rows and the assignments stay as they were.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { Pool } from 'undici';
import { describeStorage } from '../../helpers/storage.js';
import { startCloud } from './harness.js';
import type { CloudHarness } from './harness.js';

type Method = 'GET' | 'PUT' | 'DELETE' | 'POST' | 'PATCH' | 'HEAD';

describeStorage('cloud bad input', (getStorage) => {
  let cloud: CloudHarness;
  let pool: Pool;

  beforeAll(async () => {
    cloud = await startCloud({ storage: getStorage() });
    pool = new Pool(cloud.server.baseUrl);
    await cloud.service.createDirectory('/d');
    await cloud.service.createDirectory('/d/sub');
    await cloud.service.upload(Readable.from([Buffer.from('0123456789')]), '/d/f.txt');
    await cloud.service.assignRole('/d', { user: 'mike' }, 'viewer');
  }, 60_000);
  afterAll(async () => {
    await pool?.close();
    await cloud?.close();
  });

  async function send(method: Method, path: string, options: { body?: string; type?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; code: unknown }> {
    const answer = await pool.request({
      path,
      method,
      headers: { 'x-fusion-api-token': cloud.server.apiKey, ...(options.type ? { 'content-type': options.type } : {}), ...options.headers },
      ...(options.body !== undefined ? { body: options.body } : {}),
    });
    const text = await answer.body.text();
    let code: unknown = null;
    try {
      code = (JSON.parse(text) as { code?: unknown }).code;
    } catch {
      code = `not JSON: ${text.slice(0, 80)}`;
    }
    return { status: answer.statusCode, code };
  }

  /** Everything a bad request could have changed. */
  async function state(): Promise<unknown> {
    const walk = async (dir: string): Promise<string[]> =>
      (await readdir(dir, { withFileTypes: true })).flatMap((e) => [e.name]).sort();
    return {
      top: await walk(cloud.root),
      d: await walk(join(cloud.root, 'd')),
      staging: await walk(join(cloud.root, '.fusion-staging')),
      content: await readFile(join(cloud.root, 'd', 'f.txt'), 'utf8'),
      rows: await cloud.service.list('/d'),
      roles: await cloud.service.roles('/d'),
    };
  }

  const JSON_TYPE = 'application/json';
  const cases: [string, Method, string, { body?: string; type?: string; headers?: Record<string, string> }, number, string][] = [
    ['overwrite flag that is not a boolean', 'PUT', '/api/cloud/file/d/f.txt?overwrite=yes', { body: 'x', type: 'application/octet-stream' }, 400, 'FUSION_ERR_VALIDATION'],
    ['recursive flag that is not a boolean', 'DELETE', '/api/cloud/directory/d/sub?recursive=maybe', {}, 400, 'FUSION_ERR_VALIDATION'],
    ['a file written where a directory is', 'PUT', '/api/cloud/file/d/sub?overwrite=true', { body: 'x', type: 'application/octet-stream' }, 409, 'FUSION_ERR_CLOUD_EXISTS'],
    ['a file written below a file', 'PUT', '/api/cloud/file/d/f.txt/inner', { body: 'x', type: 'application/octet-stream' }, 404, 'FUSION_ERR_CLOUD_NOT_FOUND'],
    ['a file written in a missing directory', 'PUT', '/api/cloud/file/d/nowhere/x', { body: 'x', type: 'application/octet-stream' }, 404, 'FUSION_ERR_CLOUD_NOT_FOUND'],
    ['a file written at the root path', 'PUT', '/api/cloud/file/', { body: 'x', type: 'application/octet-stream' }, 400, 'FUSION_ERR_CLOUD_PATH'],
    ['a directory created where a file is', 'POST', '/api/cloud/directory/d/f.txt', {}, 409, 'FUSION_ERR_CLOUD_EXISTS'],
    ['a directory created below a file', 'POST', '/api/cloud/directory/d/f.txt/sub', {}, 404, 'FUSION_ERR_CLOUD_NOT_FOUND'],
    ['the root directory created', 'POST', '/api/cloud/directory/', {}, 400, 'FUSION_ERR_CLOUD_PATH'],
    ['the root directory created without a slash', 'POST', '/api/cloud/directory', {}, 400, 'FUSION_ERR_CLOUD_PATH'],
    ['the root directory deleted', 'DELETE', '/api/cloud/directory/?recursive=true', {}, 400, 'FUSION_ERR_CLOUD_PATH'],
    ['a file deleted as a directory', 'DELETE', '/api/cloud/directory/d/f.txt', {}, 404, 'FUSION_ERR_CLOUD_NOT_FOUND'],
    ['a directory deleted as a file', 'DELETE', '/api/cloud/file/d/sub', {}, 404, 'FUSION_ERR_CLOUD_NOT_FOUND'],
    ['a missing file deleted', 'DELETE', '/api/cloud/file/d/missing.txt', {}, 404, 'FUSION_ERR_CLOUD_NOT_FOUND'],
    ['a missing directory deleted', 'DELETE', '/api/cloud/directory/d/missing', {}, 404, 'FUSION_ERR_CLOUD_NOT_FOUND'],
    ['a directory read as a file', 'GET', '/api/cloud/file/d/sub', {}, 404, 'FUSION_ERR_CLOUD_NOT_FOUND'],
    ['a file zipped as a directory', 'GET', '/api/cloud/zip/d/f.txt', {}, 404, 'FUSION_ERR_CLOUD_NOT_FOUND'],
    ['a missing directory zipped', 'GET', '/api/cloud/zip/d/missing', {}, 404, 'FUSION_ERR_CLOUD_NOT_FOUND'],
    ['a missing directory listed', 'GET', '/api/cloud/tree/d/missing', {}, 404, 'FUSION_ERR_CLOUD_NOT_FOUND'],
    ['a range past the end', 'GET', '/api/cloud/file/d/f.txt', { headers: { range: 'bytes=10-' } }, 416, 'FUSION_ERR_RANGE_NOT_SATISFIABLE'],
    ['a role body that is not JSON', 'PUT', '/api/cloud/roles/d', { body: '{"user": "mike",', type: JSON_TYPE }, 400, 'FUSION_ERR_BAD_JSON'],
    ['a role body that is an array', 'PUT', '/api/cloud/roles/d', { body: '[{"user":"mike","role":"owner"}]', type: JSON_TYPE }, 400, 'FUSION_ERR_VALIDATION'],
    ['a role body that is a string', 'PUT', '/api/cloud/roles/d', { body: '"owner"', type: JSON_TYPE }, 400, 'FUSION_ERR_VALIDATION'],
    ['a role body sent as plain text', 'PUT', '/api/cloud/roles/d', { body: 'user=mike&role=owner', type: 'text/plain' }, 415, 'FUSION_ERR_UNSUPPORTED_MEDIA_TYPE'],
    ['a role given with an empty name', 'PUT', '/api/cloud/roles/d', { body: '{"user":"mike","role":""}', type: JSON_TYPE }, 400, 'FUSION_ERR_VALIDATION'],
    ['a role given to a user and a group at once', 'PUT', '/api/cloud/roles/d', { body: '{"user":"mike","group":"staff","role":"owner"}', type: JSON_TYPE }, 400, 'FUSION_ERR_VALIDATION'],
    ['a role given with no role', 'PUT', '/api/cloud/roles/d', { body: '{"user":"mike"}', type: JSON_TYPE }, 400, 'FUSION_ERR_VALIDATION'],
    ['a removal with no principal', 'DELETE', '/api/cloud/roles/d', { body: '{}', type: JSON_TYPE }, 400, 'FUSION_ERR_VALIDATION'],
    ['a removal with no body', 'DELETE', '/api/cloud/roles/d', {}, 400, 'FUSION_ERR_VALIDATION'],
    ['a removal with a user and a group', 'DELETE', '/api/cloud/roles/d', { body: '{"user":"mike","group":"staff"}', type: JSON_TYPE }, 400, 'FUSION_ERR_VALIDATION'],
    ['a removal of nobody\'s assignment', 'DELETE', '/api/cloud/roles/d', { body: '{"group":"nobody"}', type: JSON_TYPE }, 404, 'FUSION_ERR_CLOUD_NOT_FOUND'],
    ['roles assigned on a hostile path', 'PUT', '/api/cloud/roles/d/%2e%2e/%2e%2e/etc', { body: '{"user":"mike","role":"owner"}', type: JSON_TYPE }, 400, 'FUSION_ERR_CLOUD_PATH'],
    ['roles removed on a hostile path', 'DELETE', '/api/cloud/roles/d/..%2Ff.txt', { body: '{"user":"mike"}', type: JSON_TYPE }, 400, 'FUSION_ERR_CLOUD_PATH'],
    ['roles listed on a missing path', 'GET', '/api/cloud/roles/d/missing', {}, 404, 'FUSION_ERR_CLOUD_NOT_FOUND'],
    ['roles given on a missing path', 'PUT', '/api/cloud/roles/d/missing', { body: '{"user":"mike","role":"viewer"}', type: JSON_TYPE }, 404, 'FUSION_ERR_CLOUD_NOT_FOUND'],
    ['roles listed on a hostile path', 'GET', '/api/cloud/roles/a%00b', {}, 400, 'FUSION_ERR_CLOUD_PATH'],
    ['a tus creation without Tus-Resumable', 'POST', '/api/cloud/uploads/', { headers: { 'upload-length': '1', 'upload-metadata': `path ${b64('/d/t')}` } }, 412, 'FUSION_ERR_CLOUD_UPLOAD'],
    ['a tus creation with a negative length', 'POST', '/api/cloud/uploads/', { headers: { 'tus-resumable': '1.0.0', 'upload-length': '-5', 'upload-metadata': `path ${b64('/d/t')}` } }, 400, 'FUSION_ERR_CLOUD_UPLOAD'],
    ['a tus creation with a length that is not a number', 'POST', '/api/cloud/uploads/', { headers: { 'tus-resumable': '1.0.0', 'upload-length': 'ten', 'upload-metadata': `path ${b64('/d/t')}` } }, 400, 'FUSION_ERR_CLOUD_UPLOAD'],
    ['a tus creation with metadata that is not base64', 'POST', '/api/cloud/uploads/', { headers: { 'tus-resumable': '1.0.0', 'upload-length': '1', 'upload-metadata': 'path !!!' } }, 400, 'FUSION_ERR_CLOUD_UPLOAD'],
    ['a tus creation with a base64 path cut short', 'POST', '/api/cloud/uploads/', { headers: { 'tus-resumable': '1.0.0', 'upload-length': '1', 'upload-metadata': `path ${b64('/d/t').slice(0, -1)}` } }, 400, 'FUSION_ERR_CLOUD_UPLOAD'],
    ['a tus creation with a plain-text path', 'POST', '/api/cloud/uploads/', { headers: { 'tus-resumable': '1.0.0', 'upload-length': '1', 'upload-metadata': 'path /d/t.txt' } }, 400, 'FUSION_ERR_CLOUD_UPLOAD'],
    ['a tus creation over a directory', 'POST', '/api/cloud/uploads/', { headers: { 'tus-resumable': '1.0.0', 'upload-length': '1', 'upload-metadata': `path ${b64('/d/sub')},overwrite ${b64('true')}` } }, 409, 'FUSION_ERR_CLOUD_EXISTS'],
    ['a tus creation over a file without overwrite', 'POST', '/api/cloud/uploads/', { headers: { 'tus-resumable': '1.0.0', 'upload-length': '1', 'upload-metadata': `path ${b64('/d/f.txt')}` } }, 409, 'FUSION_ERR_CLOUD_EXISTS'],
    ['a tus creation with an overwrite that is not a boolean', 'POST', '/api/cloud/uploads/', { headers: { 'tus-resumable': '1.0.0', 'upload-length': '1', 'upload-metadata': `path ${b64('/d/f.txt')},overwrite ${b64('perhaps')}` } }, 400, 'FUSION_ERR_CLOUD_UPLOAD'],
    ['a tus PATCH of an id that is not one', 'PATCH', '/api/cloud/uploads/..%2F..%2Fetc', { body: 'x', type: 'application/offset+octet-stream', headers: { 'tus-resumable': '1.0.0', 'upload-offset': '0' } }, 404, 'FUSION_ERR_CLOUD_NOT_FOUND'],
  ];

  it.each(cases)('%s: %s %s answers a 4xx envelope and changes nothing', async (_name, method, path, options, status, code) => {
    const before = await state();
    expect(await send(method, path, options)).toEqual({ status, code });
    expect(await state()).toEqual(before);
  });

  it('metadata that is not base64 is named in the answer, with what to send instead', async () => {
    const answer = await pool.request({ path: '/api/cloud/uploads/', method: 'POST', headers: { 'x-fusion-api-token': cloud.server.apiKey, 'tus-resumable': '1.0.0', 'upload-length': '1', 'upload-metadata': `overwrite ${b64('true')},path /d/t.txt` } });
    const body = (await answer.body.json()) as { code: string; message: string };
    expect({ status: answer.statusCode, code: body.code }).toEqual({ status: 400, code: 'FUSION_ERR_CLOUD_UPLOAD' });
    expect(body.message).toMatch(/Upload-Metadata: the value of "path" is not base64: send each value base64-encoded/);
  });

  it('a caller without the permission gets 403 before any bad body is looked at, and nothing changes', async () => {
    const before = await state();
    const mike = (await cloud.server.login('mike')).client;
    await expect(mike.put('/api/cloud/roles/d', { user: 'mike', role: 'emperor' })).rejects.toMatchObject({ status: 403, code: 'FUSION_ERR_FORBIDDEN' });
    await expect(mike.requestRaw('PUT', '/api/cloud/file/d/f.txt?overwrite=true', { body: 'mine', headers: { 'content-type': 'application/octet-stream' } })).rejects.toMatchObject({ status: 403 });
    expect(await state()).toEqual(before);
  });
});

function b64(text: string): string {
  return Buffer.from(text).toString('base64');
}
