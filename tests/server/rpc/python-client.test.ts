/** docs/rpc.md's standard-library Python JSON-RPC client, run as written with python3 against a live server. */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { KnexStorage } from '../../../src/server/storage/knex-storage.js';
import { freshStorage } from '../../helpers/storage.js';
import { silenceAudit, startRpcServer } from './helpers.js';
import type { RpcServer } from './helpers.js';

const run = promisify(execFile);

/** The ```python block after `<!-- python-example: NAME -->` in docs/rpc.md. */
async function pythonExample(name: string): Promise<string> {
  const text = await readFile(join(process.cwd(), 'docs/rpc.md'), 'utf8');
  const start = text.indexOf(`<!-- python-example: ${name} -->`);
  if (start < 0) throw new Error(`docs/rpc.md has no <!-- python-example: ${name} --> marker`);
  const block = /```python\n([\s\S]*?)```/.exec(text.slice(start));
  if (block === null) throw new Error(`docs/rpc.md: no python block after the ${name} marker`);
  return block[1]!;
}

describe('docs/rpc.md: a Python client with the standard library only', () => {
  silenceAudit();
  let storage: KnexStorage;
  let t: RpcServer;
  let dir: string;

  beforeAll(async () => {
    storage = await freshStorage('pglite');
    t = await startRpcServer(storage);
    dir = await mkdtemp(join(tmpdir(), 'fusion-rpc-python-'));
  }, 60_000);

  afterAll(async () => {
    await t?.close();
    await storage?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('says hello, creates and retrieves a case, and gets a -32601 error frame', async () => {
    const script = join(dir, 'client.py');
    await writeFile(script, await pythonExample('rpc-stdlib'));
    // No module guard: the snippet needs nothing beyond python3 itself; without python3 this fails (ENOENT), loudly.
    const { stdout } = await run('python3', [script], { env: { ...process.env, FUSION_RPC_URL: t.wsUrl, FUSION_API_KEY: t.apiKey }, timeout: 60_000 });
    const lines = stdout.trim().split('\n').map((line) => JSON.parse(line) as unknown);
    expect(lines).toEqual(['python', 'from python', expect.stringMatching(/^-32601 FUSION_ERR_RPC_METHOD_NOT_FOUND: /)]);
  });
});
