/** Tus resumable uploads: through the client, resumed after a cut, and refused in our envelope. */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { request } from 'undici';
import { describeStorage } from '../../helpers/storage.js';
import { startCloud } from './harness.js';
import type { CloudHarness } from './harness.js';

const TUS = { 'tus-resumable': '1.0.0' };

function metadata(fields: Record<string, string>): string {
  return Object.entries(fields)
    .map(([key, value]) => `${key} ${Buffer.from(value).toString('base64')}`)
    .join(',');
}

describeStorage('cloud tus uploads', (getStorage) => {
  let cloud: CloudHarness;
  let work: string;

  beforeAll(async () => {
    cloud = await startCloud({ storage: getStorage(), cloud: { quota_bytes: 4 * 1024 * 1024 } });
    work = await mkdtemp(join(tmpdir(), 'fusion-cloud-tus-'));
    await cloud.jane.createDirectory('/up');
  }, 60_000);
  afterAll(async () => {
    await cloud?.close();
    await rm(work, { recursive: true, force: true });
  });

  const base = (): string => cloud.server.baseUrl;
  const sessions = new Map<string, string>();
  function sessionOf(name: string): string {
    return sessions.get(name)!;
  }

  async function create(headers: Record<string, string>, body?: string): Promise<{ status: number; location?: string; json?: Record<string, unknown> }> {
    const answer = await request(`${base()}/api/cloud/uploads/`, { method: 'POST', headers: { ...TUS, ...headers }, ...(body ? { body } : {}) });
    const text = await answer.body.text();
    const location = answer.headers.location as string | undefined;
    return { status: answer.statusCode, ...(location ? { location } : {}), ...(text.startsWith('{') ? { json: JSON.parse(text) as Record<string, unknown> } : {}) };
  }

  beforeAll(async () => {
    for (const user of ['jane', 'mike']) {
      const login = await request(`${base()}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ data: { username: user, password: `${user}-password` } }) });
      const setCookie = [login.headers['set-cookie']].flat().join(';');
      await login.body.dump();
      sessions.set(user, /=([^;]+)/.exec(setCookie)![1]!);
    }
  });
  const as = (user: string): Record<string, string> => ({ cookie: `${cloud.server.config.auth!.cookie.name}=${sessionOf(user)}` });

  it('uploads through the client (several PATCH chunks) and records the file with its sha256', async () => {
    const body = randomBytes(2 * 1024 * 1024 + 123);
    const local = join(work, 'two.bin');
    await writeFile(local, body);
    const seen: number[] = [];
    const entry = await cloud.jane.upload(local, '/up/two.bin', { resumable: true, chunkSize: 512 * 1024, onProgress: (bytes) => seen.push(bytes) });
    expect(entry).toMatchObject({ path: 'up/two.bin', size: body.length, sha256: createHash('sha256').update(body).digest('hex'), creator: 'jane' });
    expect(seen.at(-1)).toBe(body.length);
    expect((await readFile(join(cloud.root, 'up', 'two.bin'))).equals(body)).toBe(true);
    expect(await readdir(join(cloud.root, '.fusion-uploads'))).toEqual([]);
  });

  it('resumes at the offset the server holds after a connection cut mid-PATCH', async () => {
    const body = randomBytes(1024 * 1024);
    const created = await create({ ...as('jane'), 'upload-length': String(body.length), 'upload-metadata': metadata({ path: '/up/resumed.bin' }) });
    expect(created.status).toBe(201);
    const url = `${base()}${created.location}`;
    // Send half the body, then cut: the server keeps what arrived.
    const controller = new AbortController();
    const half = body.subarray(0, 512 * 1024);
    const cut = request(url, {
      method: 'PATCH',
      headers: { ...TUS, ...as('jane'), 'upload-offset': '0', 'content-type': 'application/offset+octet-stream', 'content-length': String(body.length) },
      body: Readable.from(
        (async function* () {
          yield half;
          await new Promise((done) => setTimeout(done, 300));
          controller.abort();
          await new Promise(() => undefined);
        })(),
      ),
      signal: controller.signal,
    });
    await expect(cut).rejects.toThrow();
    let offset = 0;
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const head = await request(url, { method: 'HEAD', headers: { ...TUS, ...as('jane') } });
      await head.body.dump();
      offset = Number(head.headers['upload-offset']);
      if (offset > 0) break;
      await new Promise((done) => setTimeout(done, 50));
    }
    expect(offset).toBeGreaterThan(0);
    expect(offset).toBeLessThanOrEqual(half.length);
    const local = join(work, 'resumed.bin');
    await writeFile(local, body);
    const entry = await cloud.jane.resumeUpload(new URL(url).pathname, local, body.length);
    expect(entry).toMatchObject({ size: body.length, sha256: createHash('sha256').update(body).digest('hex') });
  });

  it('answers a lying offset with 409 in the envelope and keeps the upload usable', async () => {
    const created = await create({ ...as('jane'), 'upload-length': '10', 'upload-metadata': metadata({ path: '/up/lie.txt' }) });
    const url = `${base()}${created.location}`;
    const lie = await request(url, { method: 'PATCH', headers: { ...TUS, ...as('jane'), 'upload-offset': '5', 'content-type': 'application/offset+octet-stream' }, body: '56789' });
    const json = (await lie.body.json()) as Record<string, unknown>;
    expect(lie.statusCode).toBe(409);
    expect(json).toMatchObject({ status: 409, code: 'FUSION_ERR_CLOUD_UPLOAD' });
    const tooMuch = await request(url, { method: 'PATCH', headers: { ...TUS, ...as('jane'), 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' }, body: '0123456789ABC' });
    expect(tooMuch.statusCode).toBeGreaterThanOrEqual(400);
    expect(tooMuch.statusCode).toBeLessThan(500);
    expect(await tooMuch.body.json()).toMatchObject({ status: tooMuch.statusCode });
    const ok = await request(url, { method: 'PATCH', headers: { ...TUS, ...as('jane'), 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' }, body: '0123456789' });
    expect(ok.statusCode).toBe(200);
    expect(await ok.body.json()).toMatchObject({ data: { path: 'up/lie.txt', size: 10 } });
    expect(await readFile(join(cloud.root, 'up', 'lie.txt'), 'utf8')).toBe('0123456789');
  });

  it('a PATCH without Content-Length that runs past the upload is refused (413) while it streams; the upload stays usable; answers carry tus headers', async () => {
    const created = await create({ ...as('jane'), 'upload-length': '10', 'upload-metadata': metadata({ path: '/up/chunked.txt' }) });
    const url = `${base()}${created.location}`;
    const patch = (offset: number, chunks: string[]) =>
      request(url, { method: 'PATCH', headers: { ...TUS, ...as('jane'), 'upload-offset': String(offset), 'content-type': 'application/offset+octet-stream' }, body: Readable.from(chunks.map((c) => Buffer.from(c))) });
    const first = await patch(0, ['01234']);
    await first.body.dump();
    expect(first.statusCode).toBe(204);
    expect(first.headers).toMatchObject({ 'tus-resumable': '1.0.0', 'upload-offset': '5' });
    const over = await patch(5, ['56789ABCDEF']);
    expect(over.statusCode).toBe(413);
    expect(over.headers['tus-resumable']).toBe('1.0.0');
    expect(await over.body.json()).toMatchObject({ status: 413, code: 'FUSION_ERR_CLOUD_TOO_LARGE' });
    const head = await request(url, { method: 'HEAD', headers: { ...TUS, ...as('jane') } });
    await head.body.dump();
    expect(head.headers['upload-offset']).toBe('5');
    const last = await patch(5, ['567', '89']);
    expect(last.statusCode).toBe(200);
    expect(await last.body.json()).toMatchObject({ data: { path: 'up/chunked.txt', size: 10, sha256: createHash('sha256').update('0123456789').digest('hex') } });
    expect(await readFile(join(cloud.root, 'up', 'chunked.txt'), 'utf8')).toBe('0123456789');
  });

  it('a PATCH asked for its lock by another request stops after the drain delay, keeping and syncing what it wrote', async () => {
    const created = await create({ ...as('jane'), 'upload-length': '10', 'upload-metadata': metadata({ path: '/up/drained.txt' }) });
    const url = `${base()}${created.location}`;
    const id = created.location!.split('/').at(-1)!;
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const slow = request(url, {
      method: 'PATCH',
      headers: { ...TUS, ...as('jane'), 'upload-offset': '0', 'content-type': 'application/offset+octet-stream', 'content-length': '10' },
      body: Readable.from(
        (async function* () {
          yield Buffer.from('0123');
          await released;
        })(),
      ),
    }).then(
      async (answer) => {
        await answer.body.dump();
        return answer.statusCode;
      },
      () => 0,
    );
    const file = join(cloud.root, '.fusion-uploads', id);
    const deadline = Date.now() + 20_000;
    while ((await readFile(file)).length < 4 && Date.now() < deadline) await new Promise((done) => setTimeout(done, 20));
    // The HEAD waits for the lock: the PATCH holding it is asked to let go and does after tus' 3 s drain.
    const head = await request(url, { method: 'HEAD', headers: { ...TUS, ...as('jane') } });
    await head.body.dump();
    expect(head.statusCode).toBe(200);
    expect(head.headers['upload-offset']).toBe('4');
    release();
    expect([0, 204]).toContain(await slow);
    const rest = await request(url, { method: 'PATCH', headers: { ...TUS, ...as('jane'), 'upload-offset': '4', 'content-type': 'application/offset+octet-stream' }, body: '456789' });
    expect(await rest.body.json()).toMatchObject({ data: { path: 'up/drained.txt', size: 10, sha256: createHash('sha256').update('0123456789').digest('hex') } });
  }, 30_000);

  it('refuses in the envelope: no auth (401), no permission (403), another caller\'s upload (403), quota (413), bad metadata (400), unknown upload (404)', async () => {
    const meta = metadata({ path: '/up/x.bin' });
    expect(await create({ 'upload-length': '10', 'upload-metadata': meta })).toMatchObject({ status: 401, json: { code: 'FUSION_ERR_UNAUTHORIZED' } });
    expect(await create({ ...as('mike'), 'upload-length': '10', 'upload-metadata': meta })).toMatchObject({ status: 403, json: { code: 'FUSION_ERR_FORBIDDEN' } });
    expect(await create({ ...as('jane'), 'upload-length': String(5 * 1024 * 1024), 'upload-metadata': meta })).toMatchObject({ status: 413, json: { code: 'FUSION_ERR_CLOUD_QUOTA' } });
    expect(await create({ ...as('jane'), 'upload-length': '10', 'upload-metadata': metadata({ path: '/up/../x' }) })).toMatchObject({ status: 400, json: { code: 'FUSION_ERR_CLOUD_PATH' } });
    expect(await create({ ...as('jane'), 'upload-length': '10' })).toMatchObject({ status: 400, json: { code: 'FUSION_ERR_CLOUD_UPLOAD' } });
    expect(await create({ ...as('jane'), 'upload-defer-length': '1', 'upload-metadata': meta })).toMatchObject({ status: 400, json: { code: 'FUSION_ERR_CLOUD_UPLOAD' } });
    const created = await create({ ...as('jane'), 'upload-length': '10', 'upload-metadata': meta });
    const stolen = await request(`${base()}${created.location}`, { method: 'PATCH', headers: { ...TUS, ...as('mike'), 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' }, body: '0123456789' });
    expect(stolen.statusCode).toBe(403);
    expect(await stolen.body.json()).toMatchObject({ code: 'FUSION_ERR_FORBIDDEN' });
    const unknown = await request(`${base()}/api/cloud/uploads/${'0'.repeat(32)}`, { method: 'HEAD', headers: { ...TUS, ...as('jane') } });
    await unknown.body.dump();
    expect(unknown.statusCode).toBe(404);
  });
});
