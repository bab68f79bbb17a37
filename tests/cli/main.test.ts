import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `fusion ARGS` from the sources (node + tsx); `onOutput` may act while it runs. */
function fusion(args: string[], onOutput?: (stdout: string, child: ReturnType<typeof spawn>) => void): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, FUSION_DEBUG: '', FUSION_LOGFILE: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      onOutput?.(stdout, child);
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fusion-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs `fusion serve ARGS`, asks GET /api/info once it listens, then sends SIGTERM; returns the run and the answer. */
async function serveAndAskInfo(args: string[]): Promise<{ run: Run; answered: unknown }> {
  let answered: unknown = null;
  let asked = false;
  const run = await fusion(args, (stdout, child) => {
    const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
    if (!match || asked) return;
    asked = true;
    fetch(`${match[1]}/api/info`)
      .then((res) => res.json())
      .then((body) => (answered = body))
      .finally(() => child.kill('SIGTERM'));
  });
  return { run, answered };
}

describe('fusion', () => {
  it('prints its version', async () => {
    const run = await fusion(['version']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^fusion-framework \d+\.\d+\.\d+/);
  });

  it('lists the commands and refuses an unknown one with exit code 2', async () => {
    const help = await fusion(['help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('serve');
    expect(help.stdout).toContain('hash-password');
    const unknown = await fusion(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
  });

  it('serve: exits with code 2 naming the bad config key', async () => {
    const path = join(dir, 'bad.yaml');
    await writeFile(path, 'server:\n  prot: 8080\n');
    const run = await fusion(['serve', '--config', path]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('server.prot: unknown key');
    expect(run.stderr).toContain('did you mean `port`');
  });

  it('serve: exits with code 2 without --config, and on a bad storage URL', async () => {
    const missing = await fusion(['serve']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--config FILE is required');
    const path = join(dir, 'storage.yaml');
    await writeFile(path, 'storage:\n  url: mysql://db\n');
    const run = await fusion(['serve', '--config', path]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('storage.url');
  });

  it('serve: --storage-url replaces storage.url (the file names a URL that would fail)', async () => {
    const path = join(dir, 'override.yaml');
    await writeFile(path, 'server:\n  host: 127.0.0.1\n  port: 0\nstorage:\n  url: postgres://nobody@127.0.0.1:1/none\ninfo:\n  api: override-test\n');
    const refused = await fusion(['serve', '--config', path, '--storage-url', 'mysql://db']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--storage-url: expected postgres://');
    const { run, answered } = await serveAndAskInfo(['serve', '--config', path, '--storage-url', 'memory://']);
    expect(answered).toMatchObject({ status: 200, data: { api: 'override-test' } });
    expect(run.code).toBe(0);
  }, 60_000);

  it('serve: listens, answers, and exits 0 on SIGTERM', async () => {
    const path = join(dir, 'good.yaml');
    await writeFile(path, 'server:\n  host: 127.0.0.1\n  port: 0\nstorage:\n  url: memory://\ninfo:\n  api: cli-test\n');
    const { run, answered } = await serveAndAskInfo(['serve', '--config', path]);
    expect(answered).toMatchObject({ status: 200, data: { api: 'cli-test' } });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('shutting down');
  }, 60_000);
});
