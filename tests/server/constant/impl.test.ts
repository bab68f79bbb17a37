import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { FusionConstantAPIClient } from '../../../src/client/api/constant.js';
import { Constant } from '../../../src/concept/index.js';
import { FusionConstantAPI } from '../../../src/server/constant/impl.js';
import type { KnexStorage } from '../../../src/server/storage/knex-storage.js';
import { freshStorage } from '../../helpers/storage.js';
import { startServer } from '../harness.js';
import type { Harness } from '../harness.js';

let storage: KnexStorage;
let dir: string;
let h: Harness;
let path: string;

beforeAll(async () => {
  storage = await freshStorage('pglite');
}, 120_000);
afterAll(async () => {
  await storage?.close();
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fusion-constant-'));
  path = join(dir, 'constant.yaml');
});
afterEach(async () => {
  await h?.close();
  await rm(dir, { recursive: true, force: true });
});

async function start(options: { checkIntervalMs?: number; authRequired?: boolean } = {}): Promise<FusionConstantAPIClient> {
  // checkIntervalMs: 60 s by default here, so these tests see changes through fs.watch only
  const api = new FusionConstantAPI({ path, debounceMs: 20, checkIntervalMs: options.checkIntervalMs ?? 60_000, authRequired: options.authRequired });
  h = await startServer({ storage, apis: [api] });
  return new FusionConstantAPIClient({ client: h.client });
}

/** Retries `check` until it passes (file events arrive asynchronously). */
async function eventually(check: () => Promise<void>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

describe('FusionConstantAPI', () => {
  it('serves the file, then follows its changes', async () => {
    await writeFile(path, 'banner: TLP:CLEAR\nallow_empty_acs: true\n');
    const client = await start();
    const first = await client.constant();
    expect(first).toBeInstanceOf(Constant);
    expect(first.toJSON()).toEqual({ banner: 'TLP:CLEAR', allow_empty_acs: true });
    await writeFile(path, 'banner: TLP:AMBER\nallow_empty_acs: false\n');
    await eventually(async () => expect((await client.constant()).banner).toBe('TLP:AMBER'));
    // an editor's atomic save: write elsewhere, rename over
    await writeFile(join(dir, '.tmp'), 'banner: TLP:RED\nallow_empty_acs: false\n');
    await rename(join(dir, '.tmp'), path);
    await eventually(async () => expect((await client.constant()).banner).toBe('TLP:RED'));
  });

  it('answers 503 while the file is missing, then serves it once created', async () => {
    const client = await start();
    await expect(client.constant()).rejects.toMatchObject({
      status: 503,
      code: 'FUSION_ERR_CONSTANT_UNAVAILABLE',
      message: expect.stringContaining('does not exist'),
    });
    await writeFile(path, 'banner: hello\nallow_empty_acs: true\n');
    await eventually(async () => expect((await client.constant()).banner).toBe('hello'));
    await rm(path);
    await eventually(async () => expect(client.constant()).rejects.toMatchObject({ status: 503 }));
  });

  it('keeps the last good version when the file breaks, and logs why', async () => {
    await writeFile(path, 'banner: good\nallow_empty_acs: true\n');
    const client = await start();
    expect((await client.constant()).banner).toBe('good');
    await writeFile(path, 'banner: [unclosed\n');
    await eventually(async () => expect(h.logs.some((line) => String(line.msg).startsWith('invalid file'))).toBe(true));
    expect((await client.constant()).banner).toBe('good');
    await writeFile(path, 'banner: 42\n'); // parses, but is not a Constant
    await eventually(async () => expect(h.logs.filter((line) => String(line.msg).includes('Constant.')).length).toBeGreaterThan(0));
    expect((await client.constant()).banner).toBe('good');
  });

  it('answers 503 "not valid" when the file was never valid', async () => {
    await writeFile(path, 'banner: [unclosed\n');
    const client = await start();
    await expect(client.constant()).rejects.toMatchObject({ status: 503, message: expect.stringContaining('not valid') });
  });

  it('sees changes through the periodic check when no event arrives', async () => {
    const { ConceptFile } = await import('../../../src/server/constant/constant-file.js');
    const { createLogger } = await import('../../../src/helper/logging.js');
    await writeFile(path, 'banner: one\nallow_empty_acs: true\n');
    // never started: no watcher, only the check on read
    const file = new ConceptFile({ path, decode: (p) => Constant.fromFile(p), logger: createLogger({ level: 'silent' }), checkIntervalMs: 0 });
    expect((await file.current())?.banner).toBe('one');
    await writeFile(path, 'banner: two, longer\nallow_empty_acs: true\n');
    expect((await file.current())?.banner).toBe('two, longer');
    file.close();
  });

  it('asks for authorization with authRequired', async () => {
    await writeFile(path, 'banner: x\nallow_empty_acs: true\n');
    const client = await start({ authRequired: true });
    await expect(client.constant()).rejects.toMatchObject({ status: 401, code: 'FUSION_ERR_UNAUTHORIZED' });
  });
});
