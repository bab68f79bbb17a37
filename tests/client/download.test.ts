import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FusionClient } from '../../src/client/client.js';
import { FusionDownloadAPIClient, filenameFromDisposition, safeFilename } from '../../src/client/api/download.js';
import { extractZip } from '../../src/helper/zip.js';
import type { KnexStorage } from '../../src/server/storage/knex-storage.js';
import { freshStorage } from '../helpers/storage.js';
import { startCuttingProxy } from '../server/download/cutting-proxy.js';
import type { CuttingProxy } from '../server/download/cutting-proxy.js';
import { makeTree, randomFile, readTree, removeAll, startDownloadServer, tempDir } from '../server/download/harness.js';
import type { DownloadServer } from '../server/download/harness.js';

const SIZE = 3 * 1024 * 1024 + 17;

describe('FusionDownloadAPIClient', () => {
  let storage: KnexStorage;
  let running: DownloadServer;
  let proxy: CuttingProxy;
  let dir: string;
  let source: string;
  let data: Buffer;
  const clients: FusionClient[] = [];

  /** A download client talking to the server directly, or through the cutting proxy. */
  function downloads(through: 'direct' | 'proxy' = 'direct'): FusionDownloadAPIClient {
    const client = new FusionClient({ baseUrl: through === 'proxy' ? proxy.url : running.baseUrl });
    clients.push(client);
    return new FusionDownloadAPIClient({ client });
  }

  async function leftovers(directory: string): Promise<string[]> {
    return (await readdir(directory)).filter((name) => name.endsWith('.part'));
  }

  beforeAll(async () => {
    storage = await freshStorage('pglite');
    running = await startDownloadServer(storage);
    proxy = await startCuttingProxy(running.baseUrl);
    dir = await tempDir();
    source = join(dir, 'source.bin');
    data = await randomFile(source, SIZE);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await proxy?.close();
    await running?.stop();
    await storage?.close();
    await removeAll(dir);
  });

  it('downloads to a file path, reporting progress', async () => {
    const out = join(dir, 'out-file.bin');
    const progress: [number, number | null][] = [];
    const key = await running.api.prepare(source, 'ignored-name.bin');
    const result = await downloads().download(key, out, { onProgress: (bytes, total) => progress.push([bytes, total]) });
    expect(result).toEqual({ path: out, bytes: SIZE });
    expect((await readFile(out)).equals(data)).toBe(true);
    expect(progress.at(-1)).toEqual([SIZE, SIZE]);
    expect(progress.every(([, total]) => total === SIZE)).toBe(true);
    expect(progress.map(([bytes]) => bytes)).toEqual([...progress.map(([bytes]) => bytes)].sort((a, b) => a - b));
    expect(await leftovers(dir)).toEqual([]);
  });

  it('downloads into a directory under the sanitized Content-Disposition name', async () => {
    const target = join(dir, 'into');
    await mkdir(target);
    const key = await running.api.prepare(source, '../../etc/rapport été.bin');
    const result = await downloads().download(key, target);
    expect(result.path).toBe(join(target, '_.._etc_rapport été.bin'));
    expect(await readdir(target)).toEqual(['_.._etc_rapport été.bin']);
    expect((await readFile(result.path)).equals(data)).toBe(true);
  });

  it('resumes after the connection is cut mid-body: the file is byte-identical', async () => {
    const out = join(dir, 'resumed.bin');
    const key = await running.api.prepare(source, 'resumed.bin');
    const seen = proxy.requests.length;
    proxy.cutNextAfter(1024 * 1024 + 333);
    const result = await downloads('proxy').download(key, out, { retryDelay: 10 });
    expect(proxy.cuts).toBe(1);
    expect(result.bytes).toBe(SIZE);
    expect((await readFile(out)).equals(data)).toBe(true);
    const requests = proxy.requests.slice(seen);
    expect(requests).toHaveLength(2);
    expect(requests[0]!.headers.range).toBeUndefined();
    expect(requests[1]!.headers.range).toMatch(/^bytes=\d+-$/);
    expect(Number(/\d+/.exec(requests[1]!.headers.range!)![0])).toBeGreaterThan(0);
    expect(requests[1]!.headers['x-fusion-resume-token']).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(requests[1]!.headers['if-range']).toMatch(/^"/);
    expect(await leftovers(dir)).toEqual([]);
  });

  it('fails cleanly (no file, no temporary) when resuming is off on the server', async () => {
    const strict = await startDownloadServer(storage, { api: { resumeWindow: 0 } });
    const strictProxy = await startCuttingProxy(strict.baseUrl);
    const client = new FusionClient({ baseUrl: strictProxy.url });
    try {
      const out = join(dir, 'never.bin');
      const key = await strict.api.prepare(source, 'never.bin');
      strictProxy.cutNextAfter(100_000);
      const failure = new FusionDownloadAPIClient({ client }).download(key, out, { retryDelay: 10 });
      await expect(failure).rejects.toMatchObject({ code: 'FUSION_ERR_CONNECTION', message: expect.stringContaining('offers no resume') });
      expect((await readdir(dir)).filter((name) => name === 'never.bin' || name.endsWith('.part'))).toEqual([]);
    } finally {
      await client.close();
      await strictProxy.close();
      await strict.stop();
    }
  });

  it('downloads a zipped directory', async () => {
    const tree = join(dir, 'tree');
    await mkdir(tree);
    await makeTree(tree);
    const target = join(dir, 'zips');
    await mkdir(target);
    const key = await running.api.prepareDirectory(tree, 'tree.zip');
    const totals: (number | null)[] = [];
    const result = await downloads().download(key, target, { onProgress: (_bytes, total) => totals.push(total) });
    expect(result.path).toBe(join(target, 'tree.zip'));
    expect(totals.every((total) => total === null)).toBe(true);
    await extractZip(result.path, join(dir, 'tree-copy'));
    expect(await readTree(join(dir, 'tree-copy'))).toEqual(await readTree(tree));
  });

  it('throws the server error for a used key and leaves nothing behind', async () => {
    const key = await running.api.prepare(source, 'once.bin');
    const api = downloads();
    await api.download(key, join(dir, 'once.bin'));
    const again = api.download(key, join(dir, 'twice.bin'));
    await expect(again).rejects.toMatchObject({ name: 'FusionClientError', status: 404, code: 'FUSION_ERR_DOWNLOAD_NOT_FOUND' });
    expect(await readdir(dir)).not.toContain('twice.bin');
    expect(await leftovers(dir)).toEqual([]);
  });

  it('stops on abort, removing the temporary file', async () => {
    const key = await running.api.prepare(source, 'aborted.bin');
    const controller = new AbortController();
    const out = join(dir, 'aborted.bin');
    const failure = downloads().download(key, out, {
      signal: controller.signal,
      onProgress: (bytes) => {
        if (bytes > 100_000) controller.abort(new Error('enough'));
      },
    });
    await expect(failure).rejects.toThrow('enough');
    expect(await readdir(dir)).not.toContain('aborted.bin');
    expect(await leftovers(dir)).toEqual([]);
  });

  it('checks its arguments', async () => {
    const api = downloads();
    await expect(api.download({ guid: 'x' } as unknown as { guid: string; token: string }, dir)).rejects.toThrow(TypeError);
    await expect(api.download({ guid: 'x', token: 'y' }, '')).rejects.toThrow(/output must be a path/);
    await expect(api.download({ guid: 'x', token: 'y' }, dir, { retries: -1 })).rejects.toThrow(/retries/);
    expect(() => new FusionDownloadAPIClient({} as never)).toThrow(/client is required/);
  });
});

describe('client file names', () => {
  it('reads filename* first, then filename', () => {
    expect(filenameFromDisposition(`attachment; filename="a.txt"; filename*=UTF-8''%C3%A9.txt`)).toBe('é.txt');
    expect(filenameFromDisposition('attachment; filename="a \\"b\\".txt"')).toBe('a "b".txt');
    expect(filenameFromDisposition('attachment; filename=plain.txt')).toBe('plain.txt');
    expect(filenameFromDisposition(`attachment; filename="x.txt"; filename*=UTF-8''%E0%A4%A.txt`)).toBe('x.txt');
    expect(filenameFromDisposition('attachment')).toBeNull();
    expect(filenameFromDisposition(undefined)).toBeNull();
  });

  it('keeps only a safe last path segment', () => {
    expect(safeFilename('../../etc/passwd')).toBe('passwd');
    expect(safeFilename('C:\\Windows\\evil.dll')).toBe('evil.dll');
    expect(safeFilename('a<b>c:d|e?f*g"h\u0001.txt')).toBe('a_b_c_d_e_f_g_h_.txt');
    for (const name of ['', '..', '.', '/', ' . ']) expect(safeFilename(name)).toBe('download');
    expect([...safeFilename('é'.repeat(500))]).toHaveLength(200);
  });
});
