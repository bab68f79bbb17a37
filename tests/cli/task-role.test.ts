// `fusion task NAME`: --once exit codes, a singleton across two processes and its takeover after SIGKILL; `fusion serve` runs the serve tasks.
import { expect, it } from '@jest/globals';
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

});
