import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { buildInitdbDumpInChild as BuildInitdbDumpInChild } from '../../../src/server/storage/pglite-initdb.js';

const SLOW_MS = 300_000;
// The child script exists once built: the sources run initdb in their own process.
const BUILT = fileURLToPath(new URL('../../../dist/server/storage/pglite-initdb.js', import.meta.url));

describe('the initdb dump built in a child process (dist/)', () => {
  let tmp: string;
  let build: typeof BuildInitdbDumpInChild;
  beforeAll(async () => {
    if (!existsSync(BUILT)) throw new Error('dist/ is missing: run npm run build first');
    ({ buildInitdbDumpInChild: build } = (await import(BUILT)) as { buildInitdbDumpInChild: typeof BuildInitdbDumpInChild });
    tmp = await mkdtemp(join(tmpdir(), 'fusion-pglite-initdb-'));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it(
    'writes the initdb dump into the cache and says so',
    async () => {
      const cache = join(tmp, 'cache');
      const messages: string[] = [];
      await expect(build(cache, true, { debug: (message) => messages.push(message) })).resolves.toBe(true);
      expect((await readdir(cache)).filter((name) => name.endsWith('-initdb.tgz'))).toHaveLength(1);
      expect(messages).toEqual([]);
    },
    SLOW_MS,
  );

  it(
    'answers false with the reason when the child fails (the cache is a file)',
    async () => {
      const cache = join(tmp, 'not-a-directory');
      await writeFile(cache, 'x');
      const messages: string[] = [];
      await expect(build(cache, true, { debug: (message) => messages.push(message) })).resolves.toBe(false);
      expect(messages).toEqual([expect.stringMatching(/initdb child failed \(exit 1\).*running initdb in this process/s)]);
    },
    SLOW_MS,
  );
});
