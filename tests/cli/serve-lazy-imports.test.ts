/**
 * What `fusion serve` (the built CLI) leaves unloaded at start: with a module hook that refuses
 * to resolve the OIDC libraries, the OpenAPI UI plugin, the pg driver and proper-lockfile, a
 * `basic` server on memory:// still starts and answers; the UI then fails on its first request (it is loaded
 * there), and an `oidc` server fails to start (its backend loads them): so the hook does bite.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const BLOCKED = ['openid-client', 'jose', 'undici', '@fastify/swagger-ui', 'pg', 'proper-lockfile'];
const START_MS = 120_000;
/** Every child started, stopped by afterAll when a test ended early. */
const children = new Set<ChildProcess>();

const HOOKS = `
const blocked = new Set(${JSON.stringify(BLOCKED)});
export async function resolve(specifier, context, next) {
  if (blocked.has(specifier)) throw new Error('blocked at start: ' + specifier);
  return next(specifier, context);
}
`;

/** A config document (JSON is YAML) for `strategy`. */
function config(backend: Record<string, unknown>): string {
  return JSON.stringify({
    // info: the "Server listening at" line tells the URL.
    server: { host: '127.0.0.1', port: 0, log_level: 'info', log_requests: false },
    auth: { backend, clients: [{ name: 'probe', key: 'lazy-imports-key-0123456789abcdef' }] },
    info: { api: 'lazy-imports' },
  });
}

interface Served {
  /** The base URL once listening, or undefined when the process exited first. */
  url: string | undefined;
  output: string;
  stop(): Promise<number | null>;
}

/** Starts `fusion serve` with the blocking hook; resolves once it listens or exits. */
function serve(dir: string, configFile: string): Promise<Served> {
  const register = pathToFileURL(join(dir, 'register.mjs')).href;
  const child = spawn(process.execPath, ['--import', register, CLI, 'serve', '--config', configFile, '--storage-url', 'memory://'], {
    env: { ...process.env, FUSION_PGLITE_CACHE: join(dir, 'cache') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  void exited.then(() => children.delete(child));
  const stop = async (): Promise<number | null> => {
    child.kill('SIGTERM');
    return exited;
  };
  return new Promise((resolve) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match) resolve({ url: match[1], output, stop });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then(() => resolve({ url: undefined, output, stop }));
  });
}

describe('fusion serve leaves the OIDC libraries, the OpenAPI UI, pg and proper-lockfile unloaded until needed', () => {
  let dir: string;
  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error('dist/ is missing: run npm run build first');
    dir = await mkdtemp(join(tmpdir(), 'fusion-lazy-imports-'));
    await writeFile(join(dir, 'hooks.mjs'), HOOKS);
    await writeFile(join(dir, 'register.mjs'), `import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n`);
  });
  afterAll(async () => {
    await Promise.all(
      [...children].map(async (child) => {
        const closed = new Promise((resolve) => child.once('close', resolve));
        child.kill('SIGKILL');
        await closed;
      }),
    );
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it(
    'a basic server starts and answers without them; its UI, loaded on the first request, is what needs one',
    async () => {
      const file = join(dir, 'basic.yaml');
      await writeFile(file, config({ strategy: 'basic', basic: { users: [] } }));
      const served = await serve(dir, file);
      try {
        expect([served.url !== undefined, served.output]).toEqual([true, served.output]);
        const info = await fetch(`${served.url}/api/info`);
        expect(info.status).toBe(200);
        expect((await info.json()) as unknown).toMatchObject({ data: { api: 'lazy-imports' } });
        const document = await fetch(`${served.url}/api/openapi.json`);
        expect(document.status).toBe(200);
        await document.arrayBuffer();
        // The UI plugin is imported now, and the hook refuses it.
        const ui = await fetch(`${served.url}/api/docs/`);
        expect(ui.status).toBe(500);
        await ui.arrayBuffer();
      } finally {
        expect(await served.stop()).toBe(0);
      }
    },
    START_MS,
  );

  it(
    'an oidc server imports its backend when set up: refused by the hook, it does not start',
    async () => {
      const file = join(dir, 'oidc.yaml');
      await writeFile(
        file,
        config({
          strategy: 'oidc',
          oidc: { issuer: 'http://127.0.0.1:9/realms/none', allow_insecure_http: true, client_id: 'fusion', client_secret: 'x', redirect_uri: 'http://127.0.0.1/callback' },
        }),
      );
      const served = await serve(dir, file);
      try {
        expect(served.url).toBeUndefined();
        expect(served.output).toMatch(/blocked at start: (openid-client|jose|undici)/);
      } finally {
        await served.stop();
      }
    },
    START_MS,
  );
});
