import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import { PendingDownloadKey } from '../../../src/concept/index.js';
import { extractZip } from '../../../src/helper/zip.js';
import { FusionDownloadAPI } from '../../../src/server/download/impl.js';
import { PENDING_DOWNLOAD_TABLE } from '../../../src/server/download/pending-rows.js';
import { describeStorage } from '../../helpers/storage.js';
import { makeTree, randomFile, readTree, removeAll, startDownloadServer, tempDir } from './harness.js';
import type { DownloadServer } from './harness.js';

const NOT_FOUND = 'download not found: the link was used already, has expired, or never existed; prepare a new one';

async function get(baseUrl: string, path: string, headers: Record<string, string> = {}) {
  const response = await request(`${baseUrl}${path}`, { headers });
  const body = Buffer.from(await response.body.arrayBuffer());
  return { status: response.statusCode, headers: response.headers, body };
}

function json(body: Buffer): Record<string, unknown> {
  return JSON.parse(body.toString('utf8')) as Record<string, unknown>;
}

describeStorage('FusionDownloadAPI', (getStorage) => {
  let dir: string;
  let file: string;
  let data: Buffer;
  let running: DownloadServer;
  let api: FusionDownloadAPI;
  let url: string;

  beforeAll(async () => {
    dir = await tempDir();
    file = join(dir, 'evidence.bin');
    data = await randomFile(file, 300_000);
    running = await startDownloadServer(getStorage());
    api = running.api;
    url = running.baseUrl;
  }, 120_000);
  afterAll(async () => {
    await running?.stop();
    await removeAll(dir);
  });
  beforeEach(async () => {
    await getStorage().knex(PENDING_DOWNLOAD_TABLE).del();
  });

  it('serves a prepared file once, with length, type, disposition, ranges and a resume token', async () => {
    const key = await api.prepare(file, 'evidence.bin');
    expect(key).toBeInstanceOf(PendingDownloadKey);
    const first = await get(url, FusionDownloadAPI.pathOf(key));
    expect(first.status).toBe(200);
    expect(first.body.equals(data)).toBe(true);
    expect(first.headers['content-length']).toBe(String(data.length));
    expect(first.headers['content-type']).toBe('application/octet-stream');
    expect(first.headers['content-disposition']).toBe('attachment; filename="evidence.bin"');
    expect(first.headers['accept-ranges']).toBe('bytes');
    expect(first.headers.etag).toMatch(/^"[0-9a-f]+-[0-9a-f]+-[0-9a-f]+"$/);
    expect(first.headers['x-fusion-resume-token']).toMatch(/^[A-Za-z0-9_-]{22}$/);

    const second = await get(url, FusionDownloadAPI.pathOf(key));
    expect(second.status).toBe(404);
    expect(json(second.body)).toMatchObject({ status: 404, code: 'FUSION_ERR_DOWNLOAD_NOT_FOUND', message: NOT_FOUND });
  });

  it('answers unknown, mistyped and expired keys alike, and refuses malformed ones with 400', async () => {
    const key = await api.prepare(file, 'x.bin');
    const unknown = await get(url, `/api/download/${randomUUID()}/${key.token}`);
    const wrongToken = await get(url, `/api/download/${key.guid}/${key.token}x`);
    for (const answer of [unknown, wrongToken]) {
      expect(answer.status).toBe(404);
      expect(json(answer.body)).toMatchObject({ code: 'FUSION_ERR_DOWNLOAD_NOT_FOUND', message: NOT_FOUND });
    }
    const badGuid = await get(url, `/api/download/not-a-guid/${key.token}`);
    expect(badGuid.status).toBe(400);
    expect(json(badGuid.body).code).toBe('FUSION_ERR_BAD_GUID');
    const badToken = await get(url, `/api/download/${key.guid}/a.b%20c`);
    expect(badToken.status).toBe(400);
    expect(json(badToken.body).code).toBe('FUSION_ERR_BAD_REQUEST');
    // None of this spent the key.
    expect((await get(url, FusionDownloadAPI.pathOf(key))).status).toBe(200);
  });

  it('does not answer HEAD (it would spend the key)', async () => {
    const key = await api.prepare(file, 'x.bin');
    const head = await request(`${url}${FusionDownloadAPI.pathOf(key)}`, { method: 'HEAD' });
    await head.body.dump();
    expect(head.statusCode).toBe(404);
    expect((await get(url, FusionDownloadAPI.pathOf(key))).status).toBe(200);
  });

  it('serves a key to exactly one of many concurrent requests', async () => {
    const key = await api.prepare(file, 'x.bin');
    const answers = await Promise.all(Array.from({ length: 6 }, () => get(url, FusionDownloadAPI.pathOf(key))));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 404, 404, 404, 404, 404]);
    expect(answers.find((a) => a.status === 200)?.body.equals(data)).toBe(true);
  });

  it('lets another instance on the same storage serve the key', async () => {
    const other = await startDownloadServer(getStorage());
    try {
      const key = await api.prepare(file, 'x.bin');
      const answer = await get(other.baseUrl, FusionDownloadAPI.pathOf(key));
      expect(answer.status).toBe(200);
      expect(answer.body.equals(data)).toBe(true);
      expect((await get(url, FusionDownloadAPI.pathOf(key))).status).toBe(404);
    } finally {
      await other.stop();
    }
  });

  it('serves single, open-ended and suffix ranges with 206 and Content-Range', async () => {
    const cases: [string, number, number][] = [
      ['bytes=10-19', 10, 19],
      ['bytes=299990-', 299_990, 299_999],
      ['bytes=-7', 299_993, 299_999],
      ['bytes=299995-400000', 299_995, 299_999],
    ];
    for (const [range, start, end] of cases) {
      const key = await api.prepare(file, 'x.bin');
      const answer = await get(url, FusionDownloadAPI.pathOf(key), { range });
      expect(answer.status).toBe(206);
      expect(answer.headers['content-range']).toBe(`bytes ${start}-${end}/${data.length}`);
      expect(answer.headers['content-length']).toBe(String(end - start + 1));
      expect(answer.body.equals(data.subarray(start, end + 1))).toBe(true);
    }
  });

  it('answers 416 to an unsatisfiable range without spending the key; ignores malformed and multiple ranges', async () => {
    const key = await api.prepare(file, 'x.bin');
    for (const range of [`bytes=${data.length}-`, 'bytes=-0', `bytes=${data.length + 5}-${data.length + 10}`]) {
      const refused = await get(url, FusionDownloadAPI.pathOf(key), { range });
      expect(refused.status).toBe(416);
      expect(refused.headers['content-range']).toBe(`bytes */${data.length}`);
      expect(json(refused.body)).toMatchObject({ status: 416, code: 'FUSION_ERR_RANGE_NOT_SATISFIABLE' });
    }
    expect((await get(url, FusionDownloadAPI.pathOf(key), { range: 'bytes=5-2' })).body.equals(data)).toBe(true);
    for (const range of ['bytes=0-1,5-6', 'items=0-5']) {
      const again = await api.prepare(file, 'x.bin');
      const full = await get(url, FusionDownloadAPI.pathOf(again), { range });
      expect(full.status).toBe(200);
      expect(full.body.equals(data)).toBe(true);
    }
  });

  it('lets only the first downloader resume, with its resume token, while the file is unchanged', async () => {
    const key = await api.prepare(file, 'x.bin');
    const path = FusionDownloadAPI.pathOf(key);
    const first = await get(url, path, { range: 'bytes=0-99' });
    expect(first.status).toBe(206);
    const resumeToken = String(first.headers['x-fusion-resume-token']);
    const etag = String(first.headers.etag);

    expect((await get(url, path, { range: 'bytes=100-' })).status).toBe(404);
    expect((await get(url, path, { range: 'bytes=100-', 'x-fusion-resume-token': `${resumeToken}x` })).status).toBe(404);
    const rest = await get(url, path, { range: 'bytes=100-', 'if-range': etag, 'x-fusion-resume-token': resumeToken });
    expect(rest.status).toBe(206);
    expect(Buffer.concat([first.body, rest.body]).equals(data)).toBe(true);
    expect(rest.headers['x-fusion-resume-token']).toBeUndefined();
    // A stale validator: the whole file comes back (200), as RFC 9110 If-Range says.
    const stale = await get(url, path, { range: 'bytes=100-', 'if-range': '"0-0-0"', 'x-fusion-resume-token': resumeToken });
    expect(stale.status).toBe(200);
    expect(stale.body.equals(data)).toBe(true);
  });

  it('keeps no resume window when resume_window is 0 (the first GET deletes the key)', async () => {
    const strict = await startDownloadServer(getStorage(), { section: { resume_window: 0 } });
    try {
      const key = await strict.api.prepare(file, 'x.bin');
      const first = await get(strict.baseUrl, FusionDownloadAPI.pathOf(key), { range: 'bytes=0-9' });
      expect(first.status).toBe(206);
      expect(first.headers['x-fusion-resume-token']).toBeUndefined();
      expect(await getStorage().knex(PENDING_DOWNLOAD_TABLE).where({ guid: key.guid }).first()).toBeUndefined();
    } finally {
      await strict.stop();
    }
  });

  it('expires keys after the timeout', async () => {
    const quick = await startDownloadServer(getStorage(), { api: { timeout: 0.3 } });
    try {
      const key = await quick.api.prepare(file, 'x.bin');
      expect(await quick.api.pendingCount()).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(await quick.api.pendingCount()).toBe(0);
      const answer = await get(quick.baseUrl, FusionDownloadAPI.pathOf(key));
      expect(answer.status).toBe(404);
      expect(json(answer.body).message).toBe(NOT_FOUND);
    } finally {
      await quick.stop();
    }
  });

  it('refuses more than max_pending_count waiting keys, across instances, until one is used', async () => {
    const limited = await startDownloadServer(getStorage(), { section: { max_pending_count: 2 } });
    try {
      const first = await limited.api.prepare(file, 'x.bin');
      await api.prepare(file, 'y.bin'); // another instance: the count is shared
      await expect(limited.api.prepare(file, 'z.bin')).rejects.toMatchObject({ code: 'FUSION_ERR_DOWNLOAD_LIMIT', status: 503 });
      expect((await get(limited.baseUrl, FusionDownloadAPI.pathOf(first))).status).toBe(200);
      await expect(limited.api.prepare(file, 'z.bin')).resolves.toBeInstanceOf(PendingDownloadKey);
    } finally {
      await limited.stop();
    }
  });

  it('holds the limit under concurrent prepares', async () => {
    const limited = await startDownloadServer(getStorage(), { api: { maxPendingCount: 3 } });
    try {
      const results = await Promise.allSettled(Array.from({ length: 8 }, () => limited.api.prepare(file, 'x.bin')));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
      expect(await limited.api.pendingCount()).toBe(3);
    } finally {
      await limited.stop();
    }
  });

  it('streams a directory as a zip built on the fly, once', async () => {
    const tree = join(dir, 'tree');
    await mkdir(tree);
    await makeTree(tree);
    const key = await api.prepareDirectory(tree, 'tree.zip');
    const answer = await get(url, FusionDownloadAPI.pathOf(key), { range: 'bytes=0-10' });
    expect(answer.status).toBe(200);
    expect(answer.headers['content-length']).toBeUndefined();
    expect(answer.headers['accept-ranges']).toBe('none');
    expect(answer.headers['content-disposition']).toBe('attachment; filename="tree.zip"');
    const out = join(dir, 'extracted');
    await extractZip(answer.body, out);
    expect(await readTree(out)).toEqual(await readTree(tree));
    expect((await get(url, FusionDownloadAPI.pathOf(key))).status).toBe(404);
  });

  it('encodes file names safely: quotes, CR/LF and separators replaced, non-ASCII in filename*', async () => {
    const key = await api.prepare(file, 'rapport "été"\r\nSet-Cookie: x=1/../.pdf');
    const answer = await get(url, FusionDownloadAPI.pathOf(key));
    expect(answer.headers['set-cookie']).toBeUndefined();
    expect(answer.headers['content-disposition']).toBe(
      `attachment; filename="rapport __t____Set-Cookie: x=1_.._.pdf"; filename*=UTF-8''rapport%20_%C3%A9t%C3%A9___Set-Cookie%3A%20x%3D1_.._.pdf`,
    );
  });

  it('refuses to prepare what is missing or of the wrong kind', async () => {
    await expect(api.prepare(join(dir, 'missing.bin'), 'x')).rejects.toMatchObject({ code: 'FUSION_ERR_FILE_IO' });
    await expect(api.prepare(dir, 'x')).rejects.toMatchObject({ code: 'FUSION_ERR_FILE_IO', message: expect.stringContaining('not a regular file') });
    await expect(api.prepareDirectory(file, 'x.zip')).rejects.toMatchObject({ code: 'FUSION_ERR_FILE_IO', message: expect.stringContaining('not a directory') });
  });

  it('answers 404 when the file vanished after prepare', async () => {
    const doomed = join(dir, 'doomed.bin');
    await writeFile(doomed, 'x');
    const key = await api.prepare(doomed, 'doomed.bin');
    await removeAll(doomed);
    const answer = await get(url, FusionDownloadAPI.pathOf(key));
    expect(answer.status).toBe(404);
    expect(json(answer.body).code).toBe('FUSION_ERR_DOWNLOAD_NOT_FOUND');
  });

  it('serves an empty file', async () => {
    const empty = join(dir, 'empty.bin');
    await writeFile(empty, '');
    const key = await api.prepare(empty, 'empty.bin');
    const answer = await get(url, FusionDownloadAPI.pathOf(key));
    expect(answer.status).toBe(200);
    expect(answer.headers['content-length']).toBe('0');
    expect(answer.body.length).toBe(0);
  });
});

describe('FusionDownloadAPI options', () => {
  it('checks options in the constructor, naming the bad one', () => {
    expect(() => new FusionDownloadAPI({ maxPendingCount: 0 })).toThrow(/maxPendingCount must be an integer >= 1/);
    expect(() => new FusionDownloadAPI({ timeout: -1 })).toThrow(/timeout must be a number of seconds > 0/);
    expect(() => new FusionDownloadAPI({ resumeWindow: Number.NaN })).toThrow(/resumeWindow/);
  });

  it('refuses prepare before it is mounted', async () => {
    await expect(new FusionDownloadAPI().prepare('/etc/hostname', 'x')).rejects.toMatchObject({ code: 'FUSION_ERR_UNAVAILABLE' });
  });
});
