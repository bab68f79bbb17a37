import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startCloud } from '../../server/cloud/harness.js';
import type { CloudHarness } from '../../server/cloud/harness.js';
import { runFusion } from '../run-fusion.js';
import { FUSION_FROM_SOURCES, inPty } from '../run-pty.js';

const SIZE = 3 * 1024 * 1024 + 7;

describe('fusion cloud, against a live server', () => {
  let h: CloudHarness;
  let dir: string;
  let source: string;
  let data: Buffer;
  let asService: Record<string, string>;

  const fusion = (args: string[], env: Record<string, string> = asService, stdin?: string) => runFusion(args, { env, ...(stdin === undefined ? {} : { stdin }) });
  const json = <T = Record<string, unknown>>(stdout: string): T => JSON.parse(stdout) as T;

  /** Logs `username` in with `fusion login`; returns the environment that uses that session. */
  async function loginAs(username: string): Promise<Record<string, string>> {
    const env = { FUSION_URL: h.server.baseUrl, FUSION_SESSION_FILE: join(dir, `${username}.session.json`) };
    const login = await fusion(['login', '-u', username], env, `${username}-password\n`);
    if (login.code !== 0) throw new Error(`login ${username}: ${login.stderr}`);
    return env;
  }

  beforeAll(async () => {
    h = await startCloud();
    dir = await mkdtemp(join(tmpdir(), 'fusion-cli-cloud-'));
    source = join(dir, 'sample.bin');
    data = randomBytes(SIZE);
    await writeFile(source, data);
    asService = { FUSION_URL: h.server.baseUrl, FUSION_API_KEY: h.server.apiKey };
  }, 60_000);
  afterAll(async () => {
    await h?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('mkdir, put (plain progress lines on a pipe), ls as a table and JSON, get back the same bytes', async () => {
    expect(json((await fusion(['cloud', 'mkdir', '/evidence', '--json'])).stdout)).toMatchObject({ path: 'evidence', type: 'directory' });
    const put = await fusion(['cloud', 'put', source, '/evidence/', '--json']);
    expect(put.code).toBe(0);
    expect(json(put.stdout)).toMatchObject({ path: 'evidence/sample.bin', type: 'file', size: SIZE });
    const lines = put.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^upload: 0% .* of 3\.0 MiB, .*\/s, ETA /);
    expect(lines.at(-1)).toMatch(/^upload: done, 3\.0 MiB in [\d.]+s \([\d.]+ \w+\/s\)$/);
    expect(put.stderr).not.toContain('\r');
    expect(put.stderr).not.toContain('\u001b[');

    const table = await fusion(['cloud', 'ls', '/evidence']);
    expect(table).toMatchObject({ code: 0, stderr: '' });
    expect(table.stdout.split('\n')[0]).toMatch(/^NAME\s+TYPE\s+SIZE\s+UPDATED\s+CREATOR$/);
    expect(table.stdout).toMatch(new RegExp(`^sample\\.bin\\s+file\\s+${SIZE}\\s`, 'm'));
    expect(json<{ name: string }[]>((await fusion(['cloud', 'ls', '--json'])).stdout).map((entry) => entry.name)).toContain('evidence');

    const back = join(dir, 'back.bin');
    const get = await fusion(['cloud', 'get', '/evidence/sample.bin', '-o', back]);
    expect(get).toMatchObject({ code: 0, stdout: `${back}\n` });
    expect((await readFile(back)).equals(data)).toBe(true);
    expect(get.stderr.trimEnd().split('\n').at(-1)).toMatch(/^download: done, 3\.0 MiB in /);
    const into = await mkdtemp(join(dir, 'into-'));
    const named = await fusion(['cloud', 'get', '/evidence/sample.bin', '-o', into, '--no-progress', '--json']);
    expect(named).toMatchObject({ code: 0, stderr: '' });
    expect(json(named.stdout)).toEqual({ path: join(into, 'sample.bin'), bytes: SIZE });
  });

  it('put: exit 5 over an existing file, --overwrite replaces it (tus, or one PUT with --no-resumable); exit 2 for a missing local file, 4 for a missing remote one', async () => {
    await fusion(['cloud', 'mkdir', '/again']);
    const plain = await fusion(['cloud', 'put', source, '/again/a.bin', '--no-resumable', '--json']);
    expect(plain.code).toBe(0);
    expect(json(plain.stdout)).toMatchObject({ path: 'again/a.bin', size: SIZE });
    expect(plain.stderr).toMatch(/^upload: done, 3\.0 MiB in /m);
    const exists = await fusion(['cloud', 'put', source, '/again/a.bin']);
    expect(exists.code).toBe(5);
    expect(exists.stderr).toContain('FUSION_ERR_CLOUD_EXISTS');
    const other = join(dir, 'other.bin');
    await writeFile(other, 'replaced by tus');
    const tus = await fusion(['cloud', 'put', other, '/again/a.bin', '--overwrite', '--json']);
    expect(tus.code).toBe(0);
    expect(json(tus.stdout)).toMatchObject({ path: 'again/a.bin', size: 15 });
    expect(tus.stderr).toMatch(/^upload: done, 15 B in /m);
    const copy = join(dir, 'copy.bin');
    await fusion(['cloud', 'get', '/again/a.bin', '-o', copy]);
    expect(await readFile(copy, 'utf8')).toBe('replaced by tus');
    expect(await fusion(['cloud', 'put', join(dir, 'absent.bin'), '/again/'])).toMatchObject({ code: 2, stderr: expect.stringContaining('not a readable file') });
    const missing = await fusion(['cloud', 'get', '/again/nothing.bin', '-o', join(dir, 'nothing.bin')]);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain('FUSION_ERR_CLOUD_NOT_FOUND');
    expect(await readdir(dir)).not.toContain('nothing.bin');
  });

  it('zip: a zip of the directory, named after it', async () => {
    await fusion(['cloud', 'mkdir', '/zipped']);
    await fusion(['cloud', 'put', source, '/zipped/inside.bin', '--no-progress']);
    const zip = await fusion(['cloud', 'zip', '/zipped', '-o', dir]);
    expect(zip).toMatchObject({ code: 0, stdout: `${join(dir, 'zipped.zip')}\n` });
    expect(zip.stderr).toMatch(/^zip: done, /m);
    const bytes = await readFile(join(dir, 'zipped.zip'));
    expect(bytes.subarray(0, 4)).toEqual(Buffer.from([0x50, 0x4b, 0x03, 0x04]));
    expect(bytes.includes(Buffer.from('inside.bin'))).toBe(true);
  });

  it('rm: a file, an empty directory (-d), a full one (-r); exit 5 for a full one with -d, 4 once gone', async () => {
    await fusion(['cloud', 'mkdir', '/trash']);
    await fusion(['cloud', 'mkdir', '/trash/empty']);
    await fusion(['cloud', 'put', source, '/trash/f.bin', '--no-progress']);
    expect(await fusion(['cloud', 'rm', '/trash/f.bin'])).toMatchObject({ code: 0, stdout: 'deleted /trash/f.bin\n' });
    expect((await fusion(['cloud', 'rm', '/trash/f.bin'])).code).toBe(4);
    expect((await fusion(['cloud', 'rm', '-d', '/trash/empty'])).code).toBe(0);
    await fusion(['cloud', 'put', source, '/trash/g.bin', '--no-progress']);
    const notEmpty = await fusion(['cloud', 'rm', '-d', '/trash']);
    expect(notEmpty.code).toBe(5);
    expect(notEmpty.stderr).toContain('FUSION_ERR_CLOUD_NOT_EMPTY');
    expect(json((await fusion(['cloud', 'rm', '-r', '/trash', '--json'])).stdout)).toEqual({ deleted: '/trash' });
    expect((await fusion(['cloud', 'ls', '/trash'])).code).toBe(4);
  });

  it('roles and perms with `fusion login` sessions: Jane gives Mike viewer; Mike reads but may not write (exit 3); removal restores the inherited rights', async () => {
    const jane = await loginAs('jane');
    const mike = await loginAs('mike');
    expect((await fusion(['cloud', 'mkdir', '/shared'], jane)).code).toBe(0);
    await writeFile(join(dir, 'notes.txt'), 'meeting at noon');
    expect((await fusion(['cloud', 'put', join(dir, 'notes.txt'), '/shared/'], jane)).code).toBe(0);
    expect(json((await fusion(['cloud', 'perms', '/shared', '--json'], jane)).stdout)).toMatchObject({ role: 'owner' });

    expect((await fusion(['cloud', 'ls', '/shared'], mike)).code).toBe(3);
    const assigned = await fusion(['cloud', 'roles', '/shared', '--user', 'mike', '--set', 'viewer', '--json'], jane);
    expect(assigned.code).toBe(0);
    expect(json<unknown[]>(assigned.stdout)).toEqual(expect.arrayContaining([{ path: '/shared', user: 'mike', group: null, role: 'viewer' }]));
    const table = await fusion(['cloud', 'roles', '/shared'], jane);
    expect(table.stdout.split('\n')[0]).toMatch(/^PATH\s+USER\s+GROUP\s+ROLE$/);
    expect(table.stdout).toMatch(/^\/shared\s+mike\s+-\s+viewer$/m);

    expect(await fusion(['cloud', 'perms', '/shared/notes.txt'], mike)).toMatchObject({ code: 0, stdout: expect.stringMatching(/^role\s+viewer$/m) });
    const read = join(dir, 'mike-notes.txt');
    expect((await fusion(['cloud', 'get', '/shared/notes.txt', '-o', read], mike)).code).toBe(0);
    expect(await readFile(read, 'utf8')).toBe('meeting at noon');
    const write = await fusion(['cloud', 'put', source, '/shared/mine.bin'], mike); // 3 MiB: refused cleanly, before the bytes
    expect(write.code).toBe(3);
    expect(write.stderr).toContain('FUSION_ERR_FORBIDDEN');
    expect((await fusion(['cloud', 'roles', '/shared'], mike)).code).toBe(3);

    const removed = await fusion(['cloud', 'roles', '/shared', '--user', 'mike', '--remove', '--json'], jane);
    expect(json<{ user: string | null }[]>(removed.stdout).map((a) => a.user)).not.toContain('mike');
    expect((await fusion(['cloud', 'ls', '/shared'], mike)).code).toBe(3);
    const badRole = await fusion(['cloud', 'roles', '/shared', '--group', 'staff', '--set', 'emperor'], jane);
    expect(badRole.code).toBe(8);
    expect(badRole.stderr).toContain('FUSION_ERR_CLOUD_ROLE');

    for (const args of [['--set', 'viewer'], ['--user', 'mike'], ['--user', 'mike', '--group', 'staff', '--set', 'viewer'], ['--user', 'mike', '--set', 'viewer', '--remove']]) {
      expect([args, (await fusion(['cloud', 'roles', '/shared', ...args], jane)).code]).toEqual([args, 2]);
    }
    expect((await fusion(['cloud', 'ls', '/shared'], { FUSION_URL: h.server.baseUrl })).code).toBe(3);
  });

  it('on a terminal (a pseudo-terminal from `script`): progress bars with speed and ETA for put and get', async () => {
    await fusion(['cloud', 'mkdir', '/tty']);
    const out = join(dir, 'tty.bin');
    const run = await inPty(`${FUSION_FROM_SOURCES} cloud put '${source}' /tty/ && ${FUSION_FROM_SOURCES} cloud get /tty/sample.bin -o '${out}'`, asService);
    if (run.code !== 0) throw new Error(`exit code ${run.code}: ${run.output}`);
    expect((await readFile(out)).equals(data)).toBe(true);
    const full = '\u2588'.repeat(30);
    for (const label of ['upload', 'download']) {
      expect(run.output).toMatch(new RegExp(`${label} \u2588+\u2591* \\d+% \\| [\\d.]+ \\w+ of 3\\.0 MiB \\| [\\d.]+ \\w+/s \\| ETA \\S+`));
      expect(run.output).toContain(`${label} ${full} 100% | 3.0 MiB of 3.0 MiB`);
      expect(run.output).not.toContain(`${label}: done`);
    }
    expect(run.output).toContain('\u001b[?25l');
  }, 120_000);
});
