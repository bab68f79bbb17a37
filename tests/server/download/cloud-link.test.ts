/** One-time links to cloud files (POST /api/cloud/link/<path>, served by GET /api/download/...), local driver. */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { Pool } from 'undici';
import { FusionDownloadAPIClient } from '../../../src/client/api/download.js';
import { Identity } from '../../../src/concept/index.js';
import { FusionDownloadAPI } from '../../../src/server/download/impl.js';
import { describeStorage } from '../../helpers/storage.js';
import { startCloud } from '../cloud/harness.js';
import type { CloudHarness } from '../cloud/harness.js';

const BAD_PATHS = [
  ['dot-dot', '../outside.txt', 'FUSION_ERR_CLOUD_PATH'],
  ['encoded dot-dot', 'docs/%2e%2e/%2e%2e/outside.txt', 'FUSION_ERR_CLOUD_PATH'],
  ['encoded slash', 'docs%2Fa.txt', 'FUSION_ERR_CLOUD_PATH'],
  ['backslash', 'docs\\a.txt', 'FUSION_ERR_CLOUD_PATH'],
  ['NUL', 'docs/a%00.txt', 'FUSION_ERR_CLOUD_PATH'],
  ['over-long segment', 'x'.repeat(256), 'FUSION_ERR_CLOUD_PATH'],
  ['the root', '', 'FUSION_ERR_CLOUD_PATH'],
] as const;

describeStorage('cloud links on the local driver', (getStorage) => {
  let cloud: CloudHarness;
  let pool: Pool;
  let work: string;
  let anonymousDownloads: FusionDownloadAPIClient;
  const body = randomBytes(300_000);

  beforeAll(async () => {
    cloud = await startCloud({ storage: getStorage(), config: { download: { resume_window: 30 } } });
    pool = new Pool(cloud.server.baseUrl);
    work = await mkdtemp(join(tmpdir(), 'fusion-cloud-link-'));
    anonymousDownloads = new FusionDownloadAPIClient({ client: cloud.server.clients.anonymous.client });
    await cloud.jane.createDirectory('/docs');
    await cloud.jane.upload(body, '/docs/a b.bin');
  }, 60_000);
  afterAll(async () => {
    await pool?.close();
    await cloud?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  function downloadApi(): FusionDownloadAPI {
    return cloud.server.server.findApi(FusionDownloadAPI)!;
  }

  async function raw(method: 'GET' | 'POST', url: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string; bytes: Buffer; headers: Record<string, unknown> }> {
    // A raw path: `new URL()` would resolve dot segments and backslashes before sending.
    const answer = await pool.request({ path: url, method, headers });
    const bytes = Buffer.from(await answer.body.arrayBuffer());
    return { status: answer.statusCode, text: bytes.toString('utf8'), bytes, headers: answer.headers };
  }

  it('the owner gets a link any client fetches once without logging in; the file keeps its name', async () => {
    const link = await cloud.jane.link('/docs/a b.bin');
    expect(link.url).toBe(FusionDownloadAPI.pathOf(link));
    const result = await anonymousDownloads.download(link, work);
    expect(result.path).toBe(join(work, 'a b.bin'));
    expect((await readFile(result.path)).equals(body)).toBe(true);
    const again = await raw('GET', link.url);
    expect(again.status).toBe(404);
    expect(JSON.parse(again.text)).toMatchObject({ status: 404, code: 'FUSION_ERR_DOWNLOAD_NOT_FOUND' });
  });

  it('serves a Range on the first GET (206) and the rest with the resume token', async () => {
    await cloud.jane.assignRole('/docs', { user: 'mike' }, 'viewer');
    const link = await cloud.mike.link('/docs/a b.bin');
    const first = await raw('GET', link.url, { range: 'bytes=10-19' });
    expect(first.status).toBe(206);
    expect(first.headers['content-range']).toBe(`bytes 10-19/${body.length}`);
    expect(first.bytes.equals(body.subarray(10, 20))).toBe(true);
    const token = first.headers['x-fusion-resume-token'] as string;
    const rest = await pool.request({ path: link.url, method: 'GET', headers: { range: 'bytes=20-', 'x-fusion-resume-token': token } });
    expect(rest.statusCode).toBe(206);
    expect(Buffer.from(await rest.body.arrayBuffer()).equals(body.subarray(20))).toBe(true);
    const stranger = await raw('GET', link.url, { range: 'bytes=20-' });
    expect(stranger.status).toBe(404);
  });

  it('refuses a caller without READ_FILE (403, anonymous 401) in the envelope, and creates no key', async () => {
    const before = await downloadApi().pendingCount();
    await expect(cloud.eve.link('/docs/a b.bin')).rejects.toMatchObject({ status: 403, code: 'FUSION_ERR_FORBIDDEN' });
    await expect(cloud.anonymous.link('/docs/a b.bin')).rejects.toMatchObject({ status: 401, code: 'FUSION_ERR_UNAUTHORIZED' });
    const answer = await raw('POST', '/api/cloud/link/docs/a%20b.bin', { cookie: '' });
    expect(JSON.parse(answer.text)).toMatchObject({ status: 401, code: 'FUSION_ERR_UNAUTHORIZED' });
    expect(await downloadApi().pendingCount()).toBe(before);
    expect(cloud.audit.some((line) => line.user === 'eve' && line.operation === 'cloud_read_file' && line.granted === false)).toBe(true);
  });

  it('answers 404 for a missing file or a directory, and a link whose file is deleted before its GET', async () => {
    await expect(cloud.jane.link('/docs/none.bin')).rejects.toMatchObject({ status: 404, code: 'FUSION_ERR_CLOUD_NOT_FOUND' });
    await expect(cloud.jane.link('/docs')).rejects.toMatchObject({ status: 404, code: 'FUSION_ERR_CLOUD_NOT_FOUND' });
    await cloud.jane.upload(Buffer.from('short-lived'), '/docs/gone.txt');
    const link = await cloud.jane.link('/docs/gone.txt');
    await cloud.jane.delete('/docs/gone.txt');
    const answer = await raw('GET', link.url);
    expect(answer.status).toBe(404);
    expect(JSON.parse(answer.text)).toMatchObject({ code: 'FUSION_ERR_DOWNLOAD_NOT_FOUND' });
  });

  it.each(BAD_PATHS)('%s: 400 in the envelope, no key created', async (_name, path, code) => {
    const before = await downloadApi().pendingCount();
    const answer = await raw('POST', `/api/cloud/link/${path}`, { 'x-fusion-api-token': cloud.server.apiKey });
    expect({ status: answer.status, code: (JSON.parse(answer.text) as { code: string }).code }).toEqual({ status: 400, code });
    expect(await downloadApi().pendingCount()).toBe(before);
  });

  it('prepareCloud: a service prepares a link for an identity, refused as the route refuses', async () => {
    const api = downloadApi();
    await expect(api.prepareCloud(null, '/docs/a b.bin')).rejects.toMatchObject({ code: 'FUSION_ERR_UNAUTHORIZED' });
    await expect(api.prepareCloud(new Identity({ username: 'eve' }), '/docs/a b.bin')).rejects.toMatchObject({ code: 'FUSION_ERR_FORBIDDEN' });
    const key = await api.prepareCloud(new Identity({ username: 'jane', groups: ['staff'] }), '/docs/a b.bin', { filename: 'renamed.bin' });
    const result = await anonymousDownloads.download(key, work);
    expect(result.path).toBe(join(work, 'renamed.bin'));
    expect((await readFile(result.path)).equals(body)).toBe(true);
  });
});
