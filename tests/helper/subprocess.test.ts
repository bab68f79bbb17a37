import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, readFile, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runSubprocess } from '../../src/helper/subprocess.js';
import { expectDocumentedExample } from './docs-example.js';

const node = process.execPath;
let dir: string;
beforeAll(async () => {
  dir = await realpath(await mkdtemp(join(tmpdir(), 'fusion-subprocess-')));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Waits until `path` holds a pid written by a child, and returns it. */
async function waitForPid(path: string): Promise<number> {
  for (;;) {
    const text = await readFile(path, 'utf8').catch(() => '');
    if (text.endsWith('\n')) return Number(text.trim());
    await sleep(20);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A node script that writes its pid to argv[1], optionally ignores SIGTERM, and never ends. */
const HANG = `
if (process.argv[2] === 'ignore-term') process.on('SIGTERM', () => {});
require('fs').writeFileSync(process.argv[1], process.pid + '\\n');
setInterval(() => {}, 1000);
`;

describe('runSubprocess', () => {
  it('runs a command and resolves with its exit code, zero or not', async () => {
    await expect(runSubprocess([node, '-e', 'process.exit(0)'])).resolves.toMatchObject({ code: 0, signal: null });
    await expect(runSubprocess([node, '-e', 'process.exit(3)'])).resolves.toMatchObject({ code: 3, signal: null });
  });

  it('ignores output by default and captures it on request', async () => {
    const script = 'process.stdout.write("out ü"); process.stderr.write("err")';
    await expect(runSubprocess([node, '-e', script])).resolves.toEqual({ code: 0, signal: null, stdout: '', stderr: '' });
    await expect(runSubprocess([node, '-e', script], { stdio: 'capture' })).resolves.toEqual({
      code: 0,
      signal: null,
      stdout: 'out ü',
      stderr: 'err',
    });
  });

  it('keeps at most maxOutputBytes of captured output', async () => {
    const result = await runSubprocess([node, '-e', 'process.stdout.write("x".repeat(100000))'], {
      stdio: 'capture',
      maxOutputBytes: 1000,
    });
    expect(result.stdout).toBe('x'.repeat(1000));
  });

  it('inherits stdio on request', async () => {
    await expect(runSubprocess([node, '-e', ''], { stdio: 'inherit' })).resolves.toMatchObject({ code: 0 });
  });

  it('passes arguments verbatim, without a shell', async () => {
    const tricky = '$HOME; echo injected `id` | cat > x';
    const result = await runSubprocess([node, '-e', 'process.stdout.write(process.argv[1])', tricky], { stdio: 'capture' });
    expect(result.stdout).toBe(tricky);
  });

  it('merges env into process.env; null or undefined removes a variable', async () => {
    process.env.FUSION_TEST_KEEP = 'kept';
    process.env.FUSION_TEST_DROP = 'dropped';
    process.env.FUSION_TEST_DROP2 = 'dropped';
    try {
      const script = 'process.stdout.write(JSON.stringify([process.env.FUSION_TEST_KEEP, process.env.FUSION_TEST_NEW, "FUSION_TEST_DROP" in process.env, "FUSION_TEST_DROP2" in process.env]))';
      const result = await runSubprocess([node, '-e', script], {
        stdio: 'capture',
        env: { FUSION_TEST_NEW: 'new', FUSION_TEST_DROP: null, FUSION_TEST_DROP2: undefined },
      });
      expect(JSON.parse(result.stdout)).toEqual(['kept', 'new', false, false]);
      expect(process.env.FUSION_TEST_DROP).toBe('dropped');
    } finally {
      delete process.env.FUSION_TEST_KEEP;
      delete process.env.FUSION_TEST_DROP;
      delete process.env.FUSION_TEST_DROP2;
    }
  });

  it('runs in cwd', async () => {
    const result = await runSubprocess([node, '-e', 'process.stdout.write(process.cwd())'], { cwd: dir, stdio: 'capture' });
    expect(result.stdout).toBe(dir);
  });

  it('reports a child killed by a signal', async () => {
    const result = await runSubprocess([node, '-e', 'process.kill(process.pid, "SIGTERM")']);
    expect(result).toMatchObject({ code: null, signal: 'SIGTERM' });
  });

  it('stops a command that outlives its timeout and rejects with FUSION_ERR_TIMEOUT', async () => {
    const error = await runSubprocess(['sleep', '30'], { timeout: 300 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'FUSION_ERR_TIMEOUT', name: 'FusionError' });
    expect((error as Error).message).toContain("command 'sleep' did not finish within 300 ms");
    expect((error as Error).message).toContain('SIGTERM');
  });

  it('stops on abort, and kills with SIGKILL a child that ignores SIGTERM', async () => {
    const pidFile = join(dir, 'stubborn.pid');
    const controller = new AbortController();
    const run = runSubprocess([node, '-e', HANG, pidFile, 'ignore-term'], { signal: controller.signal, killGrace: 200 });
    const pid = await waitForPid(pidFile);
    expect(isAlive(pid)).toBe(true);
    controller.abort(new Error('user cancelled'));
    await expect(run).rejects.toThrow('user cancelled');
    expect(isAlive(pid)).toBe(false);
  });

  it('stops a well-behaved child with SIGTERM on abort', async () => {
    const pidFile = join(dir, 'polite.pid');
    const controller = new AbortController();
    const run = runSubprocess([node, '-e', HANG, pidFile], { signal: controller.signal });
    const pid = await waitForPid(pidFile);
    controller.abort();
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(isAlive(pid)).toBe(false);
  });

  it('rejects at once with an already aborted signal', async () => {
    await expect(runSubprocess(['sleep', '30'], { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('rejects a missing executable with FUSION_ERR_SUBPROCESS naming the command', async () => {
    const error = await runSubprocess(['fusion-no-such-command-xyz', '--help']).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'FUSION_ERR_SUBPROCESS' });
    expect((error as Error).message).toBe(
      "cannot run 'fusion-no-such-command-xyz': command not found: check the name, or give its full path, or fix PATH",
    );
  });

  it('says so when the working directory does not exist', async () => {
    const error = await runSubprocess([node, '-e', ''], { cwd: join(dir, 'missing') }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'FUSION_ERR_SUBPROCESS' });
    expect((error as Error).message).toContain(`working directory '${join(dir, 'missing')}' does not exist`);
  });

  it('checks its arguments', async () => {
    await expect(runSubprocess([])).rejects.toThrow('argv must be a non-empty array');
    await expect(runSubprocess([''])).rejects.toThrow('must not be empty');
    await expect(runSubprocess(['true'], { timeout: 0 })).rejects.toThrow('timeout must be a number > 0');
  });
});

describe('docs example (docs/helpers.md, subprocess)', () => {
  it('runs', async () => {
    // --- example starts
    const { code, stdout } = await runSubprocess(['node', '-e', 'console.log(process.env.GREETING)'], {
      env: { GREETING: 'hello', NODE_OPTIONS: null }, // null removes a variable
      stdio: 'capture',
      timeout: 10_000,
    });
    // --- example ends
    expect(code).toBe(0);
    expect(stdout).toBe('hello\n');
  });

  it('is the one docs/helpers.md shows', () => {
    expectDocumentedExample('tests/helper/subprocess.test.ts', 'subprocess');
  });
});
