/**
 * The package as a user gets it: `npm pack` (prepack builds dist/), `fusion init` scaffolds a
 * service depending on the tarball, `npm install` installs it in that fresh directory, then
 * every export path is imported, `npx fusion version` runs, and the scaffold's own tests pass.
 */
import { existsSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FusionAuthAPIClient } from '../../src/client/api/auth.js';
import { FusionRpcClient } from '../../src/client/api/rpc.js';
import { FusionClient } from '../../src/client/client.js';
import { runFusion } from '../cli/run-fusion.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Done {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end (output kept for the failure message). */
function exec(command: string, args: string[], cwd: string): Promise<Done> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, npm_config_loglevel: 'error', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function succeed(command: string, args: string[], cwd: string): Promise<Done> {
  const done = await exec(command, args, cwd);
  if (done.code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${done.code}:\n${done.stdout}\n${done.stderr}`);
  return done;
}

describe('the packed package', () => {
  let dir: string;
  let tarball: string;
  let service: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fusion-pack-'));
    // dist/ is built by `npm install` (prepare) and by .ci/run; packing without scripts leaves it in
    // place, so suites reading dist/ at the same time (tests/types/consumer) never see it half-built.
    if (!existsSync(join(ROOT, 'dist', 'index.js'))) throw new Error('dist/ is missing: run npm run build first');
    await succeed('npm', ['pack', '--silent', '--ignore-scripts', '--pack-destination', dir], ROOT);
    tarball = join(dir, (await readdir(dir)).find((name) => name.endsWith('.tgz'))!);
    service = join(dir, 'my-service');
    const init = await runFusion(['init', service, '--framework', `file:${tarball}`]);
    if (init.code !== 0) throw new Error(`fusion init exited ${init.code}: ${init.stderr}`);
    // The cache is warm here; --prefer-offline avoids asking the registry about what it holds.
    await succeed('npm', ['install', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund'], service);
  }, 600_000);
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('holds dist/ (built by prepack) and every file its exports and bin name', async () => {
    const installed = join(service, 'node_modules', 'fusion-framework');
    const manifest = JSON.parse(await readFile(join(installed, 'package.json'), 'utf8')) as { exports: Record<string, { types: string; default: string }>; bin: Record<string, string> };
    for (const [path, target] of Object.entries(manifest.exports)) {
      for (const file of [target.types, target.default]) expect([path, (await stat(join(installed, file))).isFile()]).toEqual([path, true]);
    }
    expect((await stat(join(installed, manifest.bin.fusion!))).isFile()).toBe(true);
    await expect(stat(join(installed, 'src'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('imports every export path in a fresh project', async () => {
    const manifest = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
    const specifiers = Object.keys(manifest.exports).map((path) => `fusion-framework${path.slice(1)}`);
    const script = `for (const s of ${JSON.stringify(specifiers)}) { const m = await import(s); console.log(s, Object.keys(m).length); }`;
    const run = await succeed(process.execPath, ['--input-type=module', '-e', script], service);
    const counts = Object.fromEntries(run.stdout.trim().split('\n').map((line) => line.split(' ')));
    expect(Object.keys(counts).sort()).toEqual([...specifiers].sort());
    for (const specifier of specifiers) expect([specifier, Number(counts[specifier]) > 0]).toEqual([specifier, true]);
  }, 240_000);

  it('runs `npx fusion version` and `npx fusion init` from the installed bin', async () => {
    const version = await succeed('npx', ['--no-install', 'fusion', 'version'], service);
    expect(version.stdout).toMatch(/^fusion-framework \d+\.\d+\.\d+/);
    const other = join(dir, 'second');
    await succeed('npx', ['--no-install', 'fusion', 'init', other], service);
    expect(JSON.parse(await readFile(join(other, 'package.json'), 'utf8'))).toMatchObject({ dependencies: { 'fusion-framework': expect.stringMatching(/^\^\d/) } });
  }, 240_000);

  it("fusion init: the scaffold's own tests pass right after npm install", async () => {
    const run = await exec('npm', ['test'], service);
    if (run.code !== 0) throw new Error(`npm test in the scaffold exited ${run.code}:\n${run.stdout}\n${run.stderr}`);
    expect(run.stdout).toMatch(/# pass 4\b/);
    expect(run.stdout).toMatch(/# fail 0\b/);
  }, 240_000);

  it('fusion init: the scaffold serves as its README says (npm start = fusion serve --config config.yaml), its RPC method included', async () => {
    const child = spawn(join(service, 'node_modules', '.bin', 'fusion'), ['serve', '--config', 'config.yaml', '--port', '0'], { cwd: service, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    let client: FusionClient | undefined;
    let rpc: FusionRpcClient | undefined;
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const onData = (chunk: Buffer): void => {
          output += chunk.toString();
          const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
          if (match) resolve(match[1]!);
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        void exited.then((code) => reject(new Error(`fusion serve exited ${code}:\n${output}`)));
      });
      client = new FusionClient({ baseUrl: url });
      const password = (await readFile(join(service, '.fusion-password'), 'utf8')).trim();
      await new FusionAuthAPIClient({ client }).login('admin', password);
      expect(await client.get('/api/hello')).toEqual({ message: 'Hello, admin' });
      // The service module's setup added its RPC method to the API the `rpc` section mounted.
      rpc = await FusionRpcClient.connect({ url, cookie: `FUSION_SESSION=${client.sessionCookie ?? ''}`, reconnect: false });
      expect(await rpc.call('ticket.count')).toBe(0);
    } finally {
      await rpc?.close();
      await client?.close();
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  }, 240_000);
});
