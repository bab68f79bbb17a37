// Tasks registered on a FusionServer (addTask, a service module's `serve: true` tasks) run while it listens.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseConfig } from '../../../src/server/config.js';
import { FusionServer } from '../../../src/server/server.js';
import { createServiceServer } from '../../../src/server/service-server.js';
import { defineService } from '../../../src/server/service-module.js';
import { openStorage } from '../../../src/server/storage/open-storage.js';
import { defineTask } from '../../../src/server/task/task.js';
import { TEST_PG_URL, isCi, pgUnavailableReason, quietLogger, randomSchemaName } from '../../helpers/storage.js';

const reason = pgUnavailableReason();
const describePg = reason === null || isCi() ? describe : describe.skip;
if (reason !== null && !isCi()) console.warn(`server tasks skipped: ${reason}`);

/** Resolves once `check` holds (polled every 20 ms, bound 30 s). */
async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describePg('tasks on the server (PostgreSQL)', () => {
  const schema = randomSchemaName();
  const config = parseConfig({ server: { log_level: 'silent' }, storage: { url: TEST_PG_URL, schema } });

  beforeAll(() => {
    if (reason !== null) throw new Error(reason);
  });
  afterAll(async () => {
    const storage = await openStorage(TEST_PG_URL, { schema, logger: quietLogger });
    await storage.knex.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [schema]);
    await storage.close();
  }, 60_000);

  it("a service module's migrations are applied and its serve tasks run after listen (startup by priority, interval) and stop on close (shutdown runs); the others do not", async () => {
    const runs: string[] = [];
    let storageOpenAtShutdown = false;
    const module = defineService({
      // The module's migrations are applied before its tasks run: warm-low writes to their table.
      migrations: [{ name: 'server-tasks-test/0001_marks', up: async (knex) => void (await knex.raw('CREATE TABLE test_marks (task text NOT NULL)')) }],
      tasks: [
        defineTask({
          name: 'warm-low',
          on: 'startup',
          serve: true,
          priority: 1,
          run: async ({ storage }) => {
            await storage.knex('test_marks').insert({ task: 'warm-low' });
            runs.push('warm-low');
          },
        }),
        defineTask({ name: 'warm-high', on: 'startup', serve: true, priority: 5, run: () => void runs.push('warm-high') }),
        defineTask({ name: 'tick', on: 'interval', interval: 0.05, immediate: true, serve: true, run: () => void runs.push('tick') }),
        defineTask({ name: 'own-process', on: 'interval', interval: 0.05, immediate: true, run: () => void runs.push('own-process') }),
        defineTask({
          name: 'bye',
          on: 'shutdown',
          serve: true,
          async run({ storage }) {
            storageOpenAtShutdown = (await storage.knex.raw('SELECT 1 AS one')).rows[0].one === 1;
            runs.push('bye');
          },
        }),
      ],
    });
    const server = await createServiceServer({ config, module });
    try {
      expect(server.tasks.map((task) => task.name)).toEqual(['warm-low', 'warm-high', 'tick', 'bye']);
      await server.start();
      expect(runs).toEqual([]); // started, not listening: no task runs
      expect(server.taskRunner).toBeNull();
      await server.listen({ host: '127.0.0.1', port: 0 });
      expect(runs.slice(0, 2)).toEqual(['warm-high', 'warm-low']);
      expect(await server.storage.knex('test_marks').select('task')).toEqual([{ task: 'warm-low' }]);
      await until('three ticks', () => runs.filter((run) => run === 'tick').length >= 3);
      expect(() => server.addTask(defineTask({ name: 'late', on: 'startup', run: () => undefined }))).toThrow(/before listen/);
    } finally {
      await server.close();
    }
    expect(runs.at(-1)).toBe('bye');
    expect(storageOpenAtShutdown).toBe(true);
    expect(runs).not.toContain('own-process');
    const ticks = runs.filter((run) => run === 'tick').length;
    await new Promise((resolve) => setImmediate(resolve));
    expect(runs.filter((run) => run === 'tick').length).toBe(ticks);
  }, 60_000);

  it('addTask checks at once: a bad definition and a duplicate name are refused with FUSION_ERR_TASK_INVALID', async () => {
    const server = new FusionServer({ config });
    try {
      server.addTask(defineTask({ name: 'once', on: 'startup', run: () => undefined }));
      expect(() => server.addTask({ name: 'once', on: 'startup', run: () => undefined })).toThrow(/registered on the server already/);
      expect(() => server.addTask({ name: 'bad', on: 'interval', run: () => undefined })).toThrow(expect.objectContaining({ code: 'FUSION_ERR_TASK_INVALID' }));
      expect(() => server.addTask({ name: 'flag', on: 'startup', serve: 'yes' as unknown as boolean, run: () => undefined })).toThrow(/serve must be true or false/);
      expect(server.tasks.map((task) => task.name)).toEqual(['once']);
    } finally {
      await server.close();
    }
  });

  it('a failing server task is logged and retried, never stops the server; a singleton runs as pg-boss jobs', async () => {
    const server = new FusionServer({ config });
    let attempts = 0;
    server.addTask(
      defineTask({
        name: 'flaky',
        on: 'interval',
        interval: 60,
        immediate: true,
        singleton: true,
        retry: { limit: 2, delay: 0.01 },
        run: () => {
          attempts++;
          if (attempts < 3) throw new Error(`attempt ${attempts} fails`);
        },
      }),
    );
    try {
      const base = await server.listen({ host: '127.0.0.1', port: 0 });
      expect(server.taskRunner?.tasks.map((task) => task.name)).toEqual(['flaky']);
      await until('the third attempt', () => attempts >= 3);
      expect((await fetch(`${base}/api/health`)).status).toBe(200);
    } finally {
      await server.close();
    }
    expect(attempts).toBe(3);
  }, 60_000);

  it('a startup task that hangs past its timeout does not hold listen(): its signal aborts, it is logged failed, the server answers', async () => {
    const server = new FusionServer({ config });
    let aborted: unknown = null;
    server.addTask(
      defineTask({
        name: 'hangs',
        on: 'startup',
        timeout: 0.5, // without it, the runner's startupTimeout (default 60 s) bounds it
        run: ({ signal }) => new Promise<void>(() => signal.addEventListener('abort', () => (aborted = signal.reason), { once: true })),
      }),
    );
    try {
      const base = await server.listen({ host: '127.0.0.1', port: 0 });
      expect(aborted).toMatchObject({ code: 'FUSION_ERR_TIMEOUT' });
      expect((await fetch(`${base}/api/health`)).status).toBe(200);
    } finally {
      await server.close();
    }
  }, 60_000);
});
