/** Hostile input: traversal in every form, symbolic links out of the root, concurrent writers, cut uploads. */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { Pool } from 'undici';
import { describeStorage } from '../../helpers/storage.js';
import { startCloud } from './harness.js';
import type { CloudHarness } from './harness.js';

const HOSTILE = [
  ['dot-dot', '../outside.txt'],
  ['dot-dot inside', 'a/../../outside.txt'],
  ['encoded dot-dot', '%2e%2e/outside.txt'],
  ['mixed-case encoded dot-dot', '%2E%2e/outside.txt'],
  ['encoded slash', '..%2Foutside.txt'],
  ['encoded slash in a name', 'a%2Fb'],
  ['encoded backslash', '..%5Coutside.txt'],
  ['raw backslash', '..\\outside.txt'],
  ['absolute', '/etc/passwd'],
  ['NUL', 'a%00b'],
  ['control character', 'a%0Ab'],
  ['single dot', './x'],
  ['empty segment', 'a//b'],
  ['over-long segment', 'x'.repeat(256)],
  // fastify refuses this URL itself, before any route runs: 400 in the envelope (src/server/framework-errors.ts).
  ['malformed escape', 'a%zzb'],
  ['reserved name', '.fusion-staging/x'],
] as const;

describeStorage('cloud hostile input', (getStorage) => {
  let cloud: CloudHarness;
  let outside: string;
  let pool: Pool;

  beforeAll(async () => {
    cloud = await startCloud({ storage: getStorage() });
    pool = new Pool(cloud.server.baseUrl);
    outside = await mkdtemp(join(tmpdir(), 'fusion-cloud-outside-'));
    await writeFile(join(outside, 'secret.txt'), 'secret');
  }, 60_000);
  afterAll(async () => {
    await pool?.close();
    await cloud?.close();
    await rm(outside, { recursive: true, force: true });
  });

  async function raw(method: 'GET' | 'PUT' | 'DELETE' | 'POST', url: string, body?: string): Promise<{ status: number; json: Record<string, unknown> }> {
    // A raw path: `new URL()` would resolve dot segments and backslashes before sending.
    const answer = await pool.request({
      path: url,
      method,
      headers: { 'x-fusion-api-token': cloud.server.apiKey, ...(body !== undefined ? { 'content-type': 'application/octet-stream' } : {}) },
      ...(body !== undefined ? { body } : {}),
    });
    const text = await answer.body.text();
    return { status: answer.statusCode, json: JSON.parse(text) as Record<string, unknown> };
  }

  it.each(HOSTILE)('%s: 400 FUSION_ERR_CLOUD_PATH on every route, nothing touched', async (name, path) => {
    const code = name === 'malformed escape' ? 'FUSION_ERR_BAD_REQUEST' : 'FUSION_ERR_CLOUD_PATH';
    const before = await readdir(cloud.root);
    const routes: ['GET' | 'PUT' | 'DELETE' | 'POST', string, string?][] = [
      ['PUT', `/api/cloud/file/${path}`, 'payload'],
      ['GET', `/api/cloud/file/${path}`],
      ['DELETE', `/api/cloud/file/${path}`],
      ['POST', `/api/cloud/directory/${path}`],
      ['DELETE', `/api/cloud/directory/${path}`],
      ['GET', `/api/cloud/tree/${path}`],
      ['GET', `/api/cloud/zip/${path}`],
      ['GET', `/api/cloud/permissions/${path}`],
    ];
    for (const [method, url, body] of routes) {
      const answer = await raw(method, url, body);
      expect({ url: `${method} ${url}`, status: answer.status, code: answer.json.code }).toEqual({ url: `${method} ${url}`, status: 400, code });
    }
    expect(await readdir(cloud.root)).toEqual(before);
    expect(await readdir(join(cloud.root, '.fusion-staging'))).toEqual([]);
    expect(await readFile(join(outside, 'secret.txt'), 'utf8')).toBe('secret');
  });

  it('refuses a symbolic link out of the root (400) for reads, writes and listings', async () => {
    await symlink(outside, join(cloud.root, 'evil'));
    for (const [method, url, body] of [
      ['GET', '/api/cloud/file/evil/secret.txt'],
      ['PUT', '/api/cloud/file/evil/planted.txt', 'planted'],
      ['GET', '/api/cloud/tree/evil'],
      ['POST', '/api/cloud/directory/evil/sub'],
    ] as const) {
      const answer = await raw(method, url, body);
      expect([url, answer.status, answer.json.code]).toEqual([url, 400, 'FUSION_ERR_CLOUD_PATH']);
    }
    expect((await readdir(outside)).sort()).toEqual(['secret.txt']);
    await rm(join(cloud.root, 'evil'));
  });

  it('two writers of one file never tear it: the content is one writer\'s whole body, and its row says so', async () => {
    await cloud.service.createDirectory('/race');
    const bodies = [randomBytes(3 * 1024 * 1024), randomBytes(3 * 1024 * 1024), randomBytes(3 * 1024 * 1024)];
    const results = await Promise.allSettled(
      bodies.map((body) => cloud.service.upload(Readable.from(chunks(body)), '/race/f', { overwrite: true, length: body.length })),
    );
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
    const stored = await readFile(join(cloud.root, 'race', 'f'));
    const digest = createHash('sha256').update(stored).digest('hex');
    expect(bodies.map((b) => createHash('sha256').update(b).digest('hex'))).toContain(digest);
    const [entry] = await cloud.service.list('/race');
    expect(entry).toMatchObject({ size: stored.length, sha256: digest });
  });

  it('a socket cut mid-body leaves no partial file and keeps the previous content', async () => {
    await cloud.service.createDirectory('/cut');
    await cloud.service.upload(Readable.from([Buffer.from('previous content')]), '/cut/f');
    const url = new URL(cloud.server.baseUrl);
    const socket = connect(Number(url.port), url.hostname);
    await new Promise<void>((done, fail) => socket.once('connect', done).once('error', fail));
    socket.write(
      `PUT /api/cloud/file/cut/f?overwrite=true HTTP/1.1\r\nHost: ${url.host}\r\nX-Fusion-API-Token: ${cloud.server.apiKey}\r\n` +
        'Content-Type: application/octet-stream\r\nContent-Length: 1000000\r\n\r\n',
    );
    socket.write(Buffer.alloc(300_000, 7));
    await waitFor(async () => (await readdir(join(cloud.root, '.fusion-staging'))).length === 1, 'the staging file to appear');
    socket.destroy();
    await waitFor(async () => (await readdir(join(cloud.root, '.fusion-staging'))).length === 0, 'the staging file to be removed');
    expect(await readFile(join(cloud.root, 'cut', 'f'), 'utf8')).toBe('previous content');
    const [entry] = await cloud.service.list('/cut');
    expect(entry).toMatchObject({ size: 16 });
    // The server keeps serving.
    expect(await cloud.service.list('/')).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'cut' })]));
  });

  it('answers bad role bodies with a 4xx naming the problem', async () => {
    await cloud.service.createDirectory('/rolebad');
    const client = cloud.server.clients.service.client;
    await expect(client.put('/api/cloud/roles/rolebad', { user: 'mike', role: 'emperor' })).rejects.toMatchObject({ status: 400, code: 'FUSION_ERR_CLOUD_ROLE' });
    await expect(client.put('/api/cloud/roles/rolebad', { user: 'mike', group: 'staff', role: 'viewer' })).rejects.toMatchObject({ status: 400 });
    await expect(client.put('/api/cloud/roles/rolebad', { role: 'viewer' })).rejects.toMatchObject({ status: 400 });
    await expect(client.put('/api/cloud/roles/rolebad', { user: 42, role: 'viewer' })).rejects.toMatchObject({ status: 400 });
    await expect(client.put('/api/cloud/roles/missing', { user: 'mike', role: 'viewer' })).rejects.toMatchObject({ status: 404 });
    await expect(client.delete('/api/cloud/roles/rolebad', { body: { user: 'nobody' } })).rejects.toMatchObject({ status: 404 });
  });
});

function* chunks(buffer: Buffer): Generator<Buffer> {
  for (let i = 0; i < buffer.length; i += 64 * 1024) yield buffer.subarray(i, i + 64 * 1024);
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 25));
  }
}

