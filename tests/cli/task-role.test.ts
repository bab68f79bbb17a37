// `fusion task NAME`: --once exit codes, a singleton across two processes and its takeover after SIGKILL; `fusion serve` runs the serve tasks; --metrics-port.
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from '@jest/globals';
import { request } from 'undici';
import { Case } from '../../src/concept/index.js';
import { SYNC_SECTIONS } from '../../src/server/task/sync-storage.js';
import { sample } from '../server/metrics/scrape.js';
import { describeRoles, fusion, until, waitForOutput } from './role-helpers.js';

const SCRAPE_KEY = 'role-metrics-scrape-key-0123456789abcdef';

describeRoles('fusion task (separate processes, PostgreSQL)', (suite) => {
  it('task --once: exit 0 when the run succeeds, 1 when it fails, 2 without a NAME', async () => {
    const ok = fusion(['task', 'succeed', '--once', '--config', suite().config]);
    expect(await ok.exited).toBe(0);
    expect(ok.stdout).toContain('task ran');
    expect(await fusion(['task', 'fail', '--once', '--config', suite().config]).exited).toBe(1);
    const noName = fusion(['analyzer', '--config', suite().config]);
    expect(await noName.exited).toBe(2);
    expect(noName.stderr).toContain('expected one NAME');
  }, 120_000);

  it('a singleton task runs in one process at a time; another takes over after a SIGKILL of the holder', async () => {
    const first = fusion(['task', 'beat', '--config', suite().config]);
    const second = fusion(['task', 'beat', '--config', suite().config]);
    await Promise.all([waitForOutput(first, 'started'), waitForOutput(second, 'started')]);
    const beats = async (): Promise<{ pid: number }[]> => suite().storage.knex('test_beats').orderBy('id').select('pid');
    await until('10 beats', async () => (await beats()).length >= 10);
    const before = new Set((await beats()).map((row) => row.pid));
    expect(before.size).toBe(1);
    const holderPid = [...before][0]!;
    const holder = [first, second].find((child) => child.process.pid === holderPid)!;
    const other = holder === first ? second : first;
    holder.process.kill('SIGKILL');
    await holder.exited;
    const killedAt = (await beats()).length;
    await until('a beat from the other process', async () => (await beats()).slice(killedAt).some((row) => row.pid === other.process.pid), 30_000);
    expect(new Set((await beats()).slice(killedAt).map((row) => row.pid))).toEqual(new Set([other.process.pid]));
    other.process.kill('SIGTERM');
    expect(await other.exited).toBe(0);
  }, 180_000);

  it('fusion serve runs the serve tasks (startup after listen, shutdown on SIGTERM), not the others', async () => {
    const rows = async (): Promise<{ task: string; pid: number }[]> => suite().storage.knex('test_serve').orderBy('id').select('task', 'pid');
    const before = await rows();
    const server = fusion(['serve', '--config', suite().config, '--host', '127.0.0.1', '--port', '0']);
    const pid = server.process.pid!;
    await until(`the startup task of fusion serve (stderr: ${server.stderr.slice(-500)})`, async () => (await rows()).some((row) => row.pid === pid));
    expect((await rows()).filter((row) => row.pid === pid)).toEqual([{ task: 'hello', pid }]);
    server.process.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect((await rows()).filter((row) => row.pid === pid)).toEqual([
      { task: 'hello', pid },
      { task: 'bye', pid },
    ]);
    // `beat` (no serve flag) never ran in it; the `fusion task` processes above never ran the serve tasks
    expect(await suite().storage.knex('test_beats').where({ pid }).count({ n: '*' })).toEqual([{ n: '0' }]);
    expect(before).toEqual([]);
  }, 120_000);

  it('--metrics-port serves fusion_task_runs_total of the task process at /api/metrics, authorized like any route, and nothing else', async () => {
    const config = suite().config.replace(/\.yaml$/, '-metrics.yaml');
    await writeFile(config, `${await readFile(suite().config, 'utf8')}metrics: { enabled: true }\nauth: { clients: [{ name: prometheus, key: ${SCRAPE_KEY} }] }\n`);
    const task = fusion(['task', 'beat', '--config', config, '--metrics-port', '0']);
    await waitForOutput(task, 'started');
    const url = /metrics at (\S+)/.exec(task.stdout)?.[1];
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/metrics$/);
    const get = async (target: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> => {
      const answer = await request(target, { headers });
      return { status: answer.statusCode, text: await answer.body.text() };
    };
    const runs = async (): Promise<number> => sample((await get(url!, { 'x-fusion-api-token': SCRAPE_KEY })).text, 'fusion_task_runs_total', { task: 'beat', outcome: 'success' }) ?? 0;
    await until('two counted runs of beat', async () => (await runs()) >= 2);
    const earlier = await runs();
    await until('the counter to move on', async () => (await runs()) > earlier);
    const anonymous = await get(url!);
    expect(anonymous.status).toBe(401);
    expect(JSON.parse(anonymous.text)).toMatchObject({ status: 401, code: 'FUSION_ERR_UNAUTHORIZED' });
    const other = await get(url!.replace('/api/metrics', '/api/info'), { 'x-fusion-api-token': SCRAPE_KEY });
    expect(other.status).toBe(404);
    expect(JSON.parse(other.text)).toMatchObject({ status: 404, code: 'FUSION_ERR_NOT_FOUND' });
    task.process.kill('SIGTERM');
    expect(await task.exited).toBe(0);
  }, 120_000);

  it('--metrics-port is refused (exit 2) without metrics.enabled, with --once, or with a bad port', async () => {
    const disabled = fusion(['task', 'beat', '--config', suite().config, '--metrics-port', '0']);
    expect(await disabled.exited).toBe(2);
    expect(disabled.stderr).toContain('metrics: { enabled: true }');
    const once = fusion(['task', 'succeed', '--once', '--config', suite().config, '--metrics-port', '0']);
    expect(await once.exited).toBe(2);
    expect(once.stderr).toContain('cannot go with --once');
    const bad = fusion(['analyzer', 'count', '--config', suite().config, '--metrics-port', 'http']);
    expect(await bad.exited).toBe(2);
    expect(bad.stderr).toContain('--metrics-port must be a port number');
  }, 120_000);

  it('a failing task is logged and retried with backoff, turn after turn, and never ends the process (SIGTERM: exit 0)', async () => {
    const worker = fusion(['task', 'flaky', '--config', suite().config]);
    const pid = worker.process.pid!;
    const attempts = async (): Promise<number[]> => (await suite().storage.knex('test_flaky').where({ pid }).orderBy('id').select('attempt')).map((row: { attempt: number }) => row.attempt);
    await until(`three failed turns (stderr: ${worker.stderr.slice(-500)})`, async () => (await attempts()).length >= 6, 90_000);
    expect(worker.process.exitCode).toBeNull();
    expect((await attempts()).slice(0, 6)).toEqual([1, 2, 1, 2, 1, 2]);
    worker.process.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
  }, 120_000);

  it('fusion task synchronizer --once mirrors every stored case into synchronizer.directory (edf_fusion layout)', async () => {
    await suite().storage.createCase(new Case({ name: 'mirrored', tsid: 'S-1' }));
    await suite().storage.createCase(new Case({ name: 'plain' }));
    const run = fusion(['task', 'synchronizer', '--once', '--config', suite().config]);
    expect(await run.exited).toBe(0);
    const root = join(suite().directory, 'sync');
    expect((await readdir(root)).sort()).toEqual(['[S-1] mirrored', 'plain']);
    expect((await readdir(join(root, '[S-1] mirrored'))).filter((name) => !name.startsWith('.')).sort()).toEqual([...SYNC_SECTIONS]);
  }, 120_000);
});
