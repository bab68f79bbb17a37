import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { withFileLock } from '../../src/helper/file-lock.js';
import { expectDocumentedExample } from './docs-example.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'file-lock-child.ts');

let dir: string;
const children: ChildProcess[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fusion-file-lock-'));
});
afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  }
  await rm(dir, { recursive: true, force: true });
});

/** Starts the helper script in a separate node process. */
function startChild(...args: string[]): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return child;
}

/** Resolves once the child printed `word` on a line. */
async function printed(child: ChildProcess, word: string): Promise<void> {
  let text = '';
  for await (const chunk of child.stdout!) {
    text += String(chunk);
    if (text.includes(`${word}\n`)) return;
  }
  throw new Error(`child ended without printing ${word} (exit ${child.exitCode})`);
}

/** Resolves once the child holds the lock. */
function lockedBy(child: ChildProcess): Promise<void> {
  return printed(child, 'locked');
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Checks that the log's lines come in "<pid> start", "<pid> end" pairs: no two holders overlapped. */
function expectNoOverlap(log: string): void {
  const lines = log.trim().split('\n');
  expect(lines.length % 2).toBe(0);
  for (let i = 0; i < lines.length; i += 2) {
    const [pid, what] = lines[i].split(' ');
    expect(what).toBe('start');
    expect(lines[i + 1]).toBe(`${pid} end`);
  }
}

describe('withFileLock', () => {
  it('runs fn under the lock, returns its value and releases the lock', async () => {
    const target = join(dir, 'data.json');
    const result = await withFileLock(target, async () => {
      expect(await exists(`${target}.lock`)).toBe(true);
      return 42;
    });
    expect(result).toBe(42);
    expect(await exists(`${target}.lock`)).toBe(false);
  });

  it('releases the lock when fn throws', async () => {
    const target = join(dir, 'data.json');
    await expect(
      withFileLock(target, () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await exists(`${target}.lock`)).toBe(false);
  });

  it('serializes callers in one process', async () => {
    const target = join(dir, 'data.json');
    const log = join(dir, 'log');
    const counter = join(dir, 'counter');
    await writeFile(counter, '0');
    const increment = (): Promise<void> =>
      withFileLock(target, async () => {
        await appendFile(log, `${process.pid} start\n`);
        const value = Number(await readFile(counter, 'utf8'));
        await sleep(5);
        await writeFile(counter, String(value + 1));
        await appendFile(log, `${process.pid} end\n`);
      });
    await Promise.all(Array.from({ length: 8 }, increment));
    expect(await readFile(counter, 'utf8')).toBe('8');
    expectNoOverlap(await readFile(log, 'utf8'));
  });

  it('serializes separate processes: no lost update, no overlapping holders', async () => {
    const target = join(dir, 'shared.json');
    const counter = join(dir, 'counter');
    const log = join(dir, 'log');
    await writeFile(counter, '0');
    const runs = [startChild('increment', target, counter, log, '10'), startChild('increment', target, counter, log, '10')];
    const exits = runs.map(async (child) => (await once(child, 'exit'))[0]);
    await Promise.all(runs.map((child) => printed(child, 'ready')));
    await writeFile(`${counter}.go`, '');
    const mine = (async () => {
      for (let i = 0; i < 10; i += 1) {
        await withFileLock(
          target,
          async () => {
            await appendFile(log, `${process.pid} start\n`);
            const value = Number(await readFile(counter, 'utf8'));
            await sleep(10);
            await writeFile(counter, String(value + 1));
            await appendFile(log, `${process.pid} end\n`);
          },
          { timeout: 60_000 },
        );
      }
    })();
    const codes = await Promise.all(exits);
    await mine;
    expect(codes).toEqual([0, 0]);
    expect(await readFile(counter, 'utf8')).toBe('30');
    const logText = await readFile(log, 'utf8');
    expectNoOverlap(logText);
    expect(new Set(logText.trim().split('\n').map((line) => line.split(' ')[0])).size).toBe(3);
  });

  it('times out with FUSION_ERR_LOCK_TIMEOUT naming the path while another process holds the lock', async () => {
    const target = join(dir, 'busy.json');
    const child = startChild('hold', target);
    await lockedBy(child);
    let ran = false;
    const error = await withFileLock(target, () => (ran = true), { timeout: 300 }).catch((e: unknown) => e);
    expect(ran).toBe(false);
    expect(error).toMatchObject({ code: 'FUSION_ERR_LOCK_TIMEOUT' });
    expect((error as Error).message).toContain(`could not lock '${target}'`);
    expect((error as Error).message).toContain(`remove '${target}.lock'`);
  });

  it('gives up after `retries` attempts', async () => {
    const target = join(dir, 'busy.json');
    const child = startChild('hold', target);
    await lockedBy(child);
    const error = await withFileLock(target, () => 1, { retries: 2, timeout: 60_000 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'FUSION_ERR_LOCK_TIMEOUT' });
    expect((error as Error).message).toContain('(3 attempts)');
  });

  it('recovers a lock left by a killed process once it is stale', async () => {
    const target = join(dir, 'orphan.json');
    const child = startChild('hold', target);
    await lockedBy(child);
    child.kill('SIGKILL');
    await once(child, 'exit');
    // SIGKILL gives the holder no chance to clean up: the lock directory stays behind.
    expect(await exists(`${target}.lock`)).toBe(true);
    const result = await withFileLock(target, () => 'recovered', { stale: 2000, timeout: 20_000 });
    expect(result).toBe('recovered');
    expect(await exists(`${target}.lock`)).toBe(false);
  });

  it('aborts fn and rejects with FUSION_ERR_LOCK_COMPROMISED when the lock is lost', async () => {
    const target = join(dir, 'lost.json');
    const error = await withFileLock(
      target,
      async (signal) => {
        await rm(`${target}.lock`, { recursive: true });
        await once(signal, 'abort');
        return 'finished';
      },
      { stale: 2000 },
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'FUSION_ERR_LOCK_COMPROMISED' });
    expect((error as Error).message).toContain(`lost the lock on '${target}'`);
  });

  it('stops waiting on abort', async () => {
    const target = join(dir, 'busy.json');
    const child = startChild('hold', target);
    await lockedBy(child);
    const controller = new AbortController();
    const waiting = withFileLock(target, () => 1, { signal: controller.signal, timeout: 60_000 });
    await sleep(100);
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('says what to do when the directory does not exist, and checks its options', async () => {
    await expect(withFileLock(join(dir, 'no', 'such', 'file'), () => 1)).rejects.toMatchObject({
      code: 'FUSION_ERR_FILE_IO',
      message: expect.stringContaining('its directory does not exist'),
    });
    await expect(withFileLock(join(dir, 'x'), () => 1, { timeout: -1 })).rejects.toThrow('timeout must be a number > 0');
    await expect(withFileLock(join(dir, 'x'), () => 1, { retries: -1 })).rejects.toThrow('retries must be a number >= 0');
  });
});

describe('docs example (docs/helpers.md, file-lock)', () => {
  it('runs', async () => {
    const counterPath = join(dir, 'counter.txt');
    await writeFile(counterPath, '41');
    // --- example starts
    // Read-modify-write a file that other processes update too.
    const next = await withFileLock(counterPath, async () => {
      const value = Number(await readFile(counterPath, 'utf8'));
      await writeFile(counterPath, String(value + 1));
      return value + 1;
    }, { timeout: 5000 });
    // --- example ends
    expect(next).toBe(42);
    expect(await readFile(counterPath, 'utf8')).toBe('42');
  });

  it('is the one docs/helpers.md shows', () => {
    expectDocumentedExample('tests/helper/file-lock.test.ts', 'file-lock');
  });
});
