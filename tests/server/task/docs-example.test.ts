/** Runs the example of docs/tasks.md (tests/server/task/feeds.example.ts) on a manual clock. */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { Case } from '../../../src/concept/index.js';
import { createLogger } from '../../../src/helper/index.js';
import { ManualClock, parseConfig } from '../../../src/server/index.js';
import { createServiceServer } from '../../../src/server/service-server.js';
import type { KnexStorage } from '../../../src/server/storage/knex-storage.js';
import { expectDocShowsExampleFile } from '../../helpers/doc-example-file.js';
import { freshStorage } from '../../helpers/storage.js';
import feeds, { runFeeds } from './feeds.example.js';

let storage: KnexStorage;
beforeAll(async () => {
  storage = await freshStorage('pglite');
}, 120_000);
afterAll(async () => {
  await storage?.close();
});

it('docs/tasks.md shows exactly the example the test runs', async () => {
  await expectDocShowsExampleFile('docs/tasks.md', 'tests/server/task/feeds.example.ts');
});

it('the service module puts both tasks on the server (serve: true)', async () => {
  const server = await createServiceServer({ config: parseConfig({ storage: { url: 'memory://' } }), module: feeds }, { logger: createLogger({ level: 'silent' }) });
  try {
    expect(server.tasks.map((task) => [task.name, task.on])).toEqual([
      ['refresh-feeds', 'interval'],
      ['announce', 'startup'],
    ]);
  } finally {
    await server.close();
  }
});

it('refresh-feeds runs every 300 s, and 60 s after a run that found changed cases', async () => {
  const clock = new ManualClock();
  await storage.createCase(new Case({ name: 'changed' }));
  const runner = await runFeeds({ storage, clock, logger: createLogger({ level: 'silent' }) });
  const runs: number[] = [];
  runner.on('run', () => runs.push(clock.now()));
  const start = clock.now();
  try {
    const turn = async (ms: number, expected: number): Promise<void> => {
      await clock.waitForSleepers();
      clock.advance(ms);
      const deadline = Date.now() + 30_000;
      while (runs.length < expected) {
        if (Date.now() > deadline) throw new Error(`run ${expected} did not happen`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
    await turn(300_000, 1); // first run: one changed case, next in 60 s
    await turn(60_000, 2); // nothing changed since: next in 300 s
    await clock.waitForSleepers();
    clock.advance(60_000);
    await new Promise((resolve) => setImmediate(resolve));
    expect(runs.length).toBe(2); // not due yet
    await turn(240_000, 3);
    expect(runs.map((at) => (at - start) / 1000)).toEqual([300, 360, 660]);
  } finally {
    await runner.stop();
  }
}, 60_000);
