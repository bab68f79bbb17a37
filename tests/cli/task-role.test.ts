// `fusion task NAME`: --once exit codes, a singleton across two processes and its takeover after SIGKILL; `fusion serve` runs the serve tasks.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from '@jest/globals';
import { Case } from '../../src/concept/index.js';
import { SYNC_SECTIONS } from '../../src/server/task/sync-storage.js';
import { describeRoles, fusion, until, waitForOutput } from './role-helpers.js';

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
