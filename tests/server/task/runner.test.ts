import { EventEmitter, once } from 'node:events';
import { afterEach, expect, it } from '@jest/globals';
import type PgBoss from 'pg-boss';
import { acquireBoss, bossSchema, ensureQueue } from '../../../src/server/task/boss.js';
import type { BossLease } from '../../../src/server/task/boss.js';
import { ManualClock, systemClock } from '../../../src/server/task/clock.js';
import type { TaskClock } from '../../../src/server/task/clock.js';
import { taskQueue } from '../../../src/server/task/singleton-job.js';
import type { TurnJob } from '../../../src/server/task/singleton-job.js';
import { FusionTaskRunner } from '../../../src/server/task/runner.js';
import type { FusionTask } from '../../../src/server/task/task.js';
import { describeStorage, quietLogger } from '../../helpers/storage.js';
import type { FusionLogger } from '../../../src/helper/logging.js';

const logger = { ...quietLogger, child: () => logger } as unknown as FusionLogger;

/** Waits for the runner's next `event` about `name` (generous bound). */
async function next(runner: FusionTaskRunner, event: 'run' | 'failure' | 'acquired' | 'released' | 'skipped', name: string): Promise<unknown[]> {
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(new Error(`no '${event}' for ${name} within 20 s`)), 20_000);
  try {
    for (;;) {
      const args = await once(runner, event, { signal: stop.signal });
      if (args[0] === name) return args;
    }
  } finally {
    clearTimeout(timer);
  }
}

describeStorage('FusionTaskRunner', (getStorage, kind) => {
  const runners: FusionTaskRunner[] = [];
  afterEach(async () => {
    await Promise.all(runners.splice(0).map((runner) => runner.stop()));
  });
  function newRunner(clock: ManualClock, takeoverInterval = 5): FusionTaskRunner {
    const runner = new FusionTaskRunner({ storage: getStorage(), clock, logger, takeoverInterval });
    runners.push(runner);
    return runner;
  }

  it('runs an interval task when due, and not before', async () => {
    const clock = new ManualClock();
    const runner = newRunner(clock);
    const runs: number[] = [];
    runner.register({ name: 'tick', on: 'interval', interval: 60, run: (ctx) => void runs.push(ctx.now) });
    await runner.start();
    await clock.waitForSleepers(1);
    clock.advance(59_000);
    await clock.waitForSleepers(1);
    expect(runs).toEqual([]);
    const ran = next(runner, 'run', 'tick');
    clock.advance(1_000);
    await ran;
    expect(runs).toEqual([clock.now()]);
    await clock.waitForSleepers(1);
    const again = next(runner, 'run', 'tick');
    clock.advance(60_000);
    await again;
    expect(runs).toHaveLength(2);
  });

  it('takes the next delay from what the task returns', async () => {
    const clock = new ManualClock();
    const runner = newRunner(clock);
    const start = clock.now();
    const runs: number[] = [];
    runner.register({ name: 'adaptive', on: 'interval', interval: 10, immediate: true, run: (ctx) => (runs.push(ctx.now - start), 300) });
    const first = next(runner, 'run', 'adaptive');
    await runner.start();
    await first;
    await clock.waitForSleepers(1);
    clock.advance(10_000); // the fixed interval has passed, the returned one has not
    await clock.waitForSleepers(1);
    expect(runs).toEqual([0]);
    const second = next(runner, 'run', 'adaptive');
    clock.advance(290_000);
    await second;
    expect(runs).toEqual([0, 300_000]);
  });

  it('runs a cron task at the minutes its expression names (UTC)', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 10, 7, 30));
    const runner = newRunner(clock);
    const runs: string[] = [];
    runner.register({ name: 'quarter', on: 'cron', cron: '*/15 * * * *', run: (ctx) => void runs.push(new Date(ctx.now).toISOString()) });
    await runner.start();
    await clock.waitForSleepers(1);
    clock.advance(7 * 60_000 + 29_000);
    await clock.waitForSleepers(1);
    expect(runs).toEqual([]);
    for (const step of [1_000, 15 * 60_000]) {
      const ran = next(runner, 'run', 'quarter');
      clock.advance(step);
      await ran;
      await clock.waitForSleepers(1);
    }
    expect(runs).toEqual(['2026-01-01T10:15:00.000Z', '2026-01-01T10:30:00.000Z']);
  });

  it('runs startup and shutdown tasks by priority, highest first', async () => {
    const clock = new ManualClock();
    const runner = newRunner(clock);
    const order: string[] = [];
    const task = (name: string, on: 'startup' | 'shutdown', priority?: number): FusionTask => ({ name, on, ...(priority === undefined ? {} : { priority }), run: () => void order.push(name) });
    runner.register(task('s-low', 'startup', -1), task('s-default', 'startup'), task('s-high', 'startup', 10), task('d-low', 'shutdown', 1), task('d-high', 'shutdown', 5));
    await runner.start();
    expect(order).toEqual(['s-high', 's-default', 's-low']);
    await runner.stop();
    expect(order.slice(3)).toEqual(['d-high', 'd-low']);
  });

  it('retries a failing run with backoff, keeps the process alive, and runs the next turn', async () => {
    const clock = new ManualClock();
    const runner = newRunner(clock);
    const attempts: number[] = [];
    let fail = true;
    runner.register({
      name: 'flaky',
      on: 'interval',
      interval: 100,
      retry: { limit: 2, delay: 1, backoff: true },
      run: (ctx) => {
        attempts.push(ctx.now);
        if (fail) throw new Error('boom');
      },
    });
    await runner.start();
    const start = clock.now();
    await clock.waitForSleepers(1);
    clock.advance(100_000);
    await next(runner, 'failure', 'flaky');
    await clock.waitForSleepers(1);
    clock.advance(1_000);
    await next(runner, 'failure', 'flaky');
    await clock.waitForSleepers(1);
    clock.advance(1_999); // the second retry waits 2 s (backoff)
    await clock.waitForSleepers(1);
    expect(attempts.map((t) => t - start)).toEqual([100_000, 101_000]);
    const third = next(runner, 'failure', 'flaky');
    clock.advance(1);
    const [, attempt] = await third;
    expect(attempt).toBe(3);
    fail = false;
    await clock.waitForSleepers(1);
    const ok = next(runner, 'run', 'flaky');
    clock.advance(100_000);
    await ok;
    expect(attempts.map((t) => t - start)).toEqual([100_000, 101_000, 103_000, 203_000]);
  });

  it('never overlaps runs of one task: runOnce during a run is refused', async () => {
    const clock = new ManualClock();
    const runner = newRunner(clock);
    let release!: () => void;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    runner.register({ name: 'slow', on: 'interval', interval: 1, immediate: true, run: async () => (started(), await blocked) });
    await runner.start();
    await running;
    await expect(runner.runOnce('slow')).rejects.toMatchObject({ code: 'FUSION_ERR_TASK_INVALID', message: expect.stringContaining('running already') });
    release();
    await next(runner, 'run', 'slow');
  });

  it('a run longer than its interval: no second run starts while it runs, missed turns are not stacked', async () => {
    const clock = new ManualClock();
    const runner = newRunner(clock);
    let active = 0;
    let maxActive = 0;
    const runs: number[] = [];
    let release!: () => void;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    runner.register({
      name: 'long',
      on: 'interval',
      interval: 10,
      run: async (ctx) => {
        active++;
        maxActive = Math.max(maxActive, active);
        runs.push(ctx.now);
        try {
          if (runs.length === 1) {
            started();
            await blocked;
          }
        } finally {
          active--;
        }
      },
    });
    await runner.start();
    const start = clock.now();
    await clock.waitForSleepers(1);
    clock.advance(10_000);
    await running;
    for (let i = 0; i < 5; i++) {
      clock.advance(10_000); // five more intervals pass during the first run
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(runs).toHaveLength(1);
    const firstEnded = next(runner, 'run', 'long');
    release();
    await firstEnded;
    await clock.waitForSleepers(1);
    expect(runs).toHaveLength(1); // no catch-up burst: the next turn is one interval after the end
    clock.advance(9_999);
    await clock.waitForSleepers(1);
    expect(runs).toHaveLength(1);
    const second = next(runner, 'run', 'long');
    clock.advance(1);
    await second;
    expect(runs.map((t) => t - start)).toEqual([10_000, 70_000]);
    expect(maxActive).toBe(1);
  });

  it('graceful stop: the run in progress sees its signal abort and ends before the shutdown tasks; nothing runs after', async () => {
    const clock = new ManualClock();
    const runner = newRunner(clock);
    const order: string[] = [];
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    runner.register(
      {
        name: 'worker',
        on: 'interval',
        interval: 1,
        immediate: true,
        run: async ({ signal }) => {
          order.push('run');
          started();
          await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
          await new Promise((resolve) => setImmediate(resolve)); // finishing touches after the abort
          order.push(`run ended (aborted: ${signal.aborted})`);
        },
      },
      { name: 'flush', on: 'shutdown', run: ({ signal }) => void order.push(`shutdown (aborted: ${signal.aborted})`) },
    );
    await runner.start();
    await running;
    await runner.stop();
    expect(order).toEqual(['run', 'run ended (aborted: true)', 'shutdown (aborted: false)']);
    expect(clock.sleeping).toBe(0);
    clock.advance(60_000);
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toHaveLength(3);
    await runner.stop(); // idempotent: the shutdown task does not run twice
    expect(order).toHaveLength(3);
  });

  it('refuses bad definitions with a clear error', () => {
    const runner = newRunner(new ManualClock());
    const run = (): void => undefined;
    expect(() => runner.register({ name: 'x', on: 'interval', run } as FusionTask)).toThrow(/interval \(seconds > 0\)/);
    expect(() => runner.register({ name: 'x', on: 'cron', cron: '61 * * * *', run })).toThrow(/minute field "61"/);
    expect(() => runner.register({ name: 'x', on: 'cron', cron: '* * *', run })).toThrow(/3 fields/);
    expect(() => runner.register({ name: 'bad name', on: 'startup', run })).toThrow(/name must be/);
    expect(() => runner.register({ name: 'x', on: 'startup', singleton: true, run })).toThrow(/singleton applies/);
    runner.register({ name: 'x', on: 'startup', run });
    expect(() => runner.register({ name: 'x', on: 'shutdown', run })).toThrow(/registered already/);
  });

  it(`singleton: one of two runners holds the task; the other takes over when it stops (${kind})`, async () => {
    const clock = new ManualClock();
    const first = newRunner(clock, 5);
    const second = newRunner(clock, 5);
    const ranOn: string[] = [];
    const task = (who: string): FusionTask => ({ name: 'sync', on: 'interval', interval: 10, singleton: true, run: () => void ranOn.push(who) });
    first.register(task('first'));
    second.register(task('second'));
    const held = next(first, 'acquired', 'sync');
    await first.start();
    await held;
    await second.start();
    for (let i = 0; i < 3; i++) {
      await clock.waitForSleepers(2); // the holder's schedule and the other's takeover attempt
      const ran = next(first, 'run', 'sync');
      clock.advance(10_000);
      await ran;
    }
    expect(ranOn).toEqual(['first', 'first', 'first']);
    const takeover = next(second, 'acquired', 'sync');
    await first.stop();
    await clock.waitForSleepers(1);
    clock.advance(5_000);
    await takeover;
    await clock.waitForSleepers(1);
    const ran = next(second, 'run', 'sync');
    clock.advance(10_000);
    await ran;
    expect(ranOn).toEqual(['first', 'first', 'first', 'second']);
  });
});

describeStorage('FusionTaskRunner: singleton turns are pg-boss jobs', (getStorage, kind) => {
  const runners: FusionTaskRunner[] = [];
  const leases: BossLease[] = [];
  afterEach(async () => {
    await Promise.all(runners.splice(0).map((runner) => runner.stop()));
    await Promise.all(leases.splice(0).map((lease) => lease.release()));
  });
  function newRunner(clock: TaskClock, options: { takeoverInterval?: number; startupTimeout?: number } = {}): FusionTaskRunner {
    const runner = new FusionTaskRunner({ storage: getStorage(), clock, logger, takeoverInterval: 5, ...options });
    runners.push(runner);
    return runner;
  }
  async function boss(): Promise<PgBoss> {
    const lease = await acquireBoss(getStorage());
    leases.push(lease);
    return lease.boss;
  }
  async function jobs(name: string): Promise<{ state: string; data: TurnJob }[]> {
    const result = await getStorage().knex.raw<{ rows: { state: string; data: TurnJob }[] }>(`SELECT state, data FROM ${bossSchema(getStorage())}.job WHERE name = ? ORDER BY created_on`, [taskQueue(name)]);
    return result.rows;
  }

  it(`two runners that both find each turn due run it once between them, each turn a completed job (${kind})`, async () => {
    const clock = new ManualClock();
    const a = newRunner(clock);
    const b = newRunner(clock);
    const ran: number[] = [];
    const finished = new EventEmitter();
    const task = (): FusionTask => ({ name: 'once-each', on: 'cron', cron: '* * * * *', singleton: true, run: (ctx) => void (ran.push(ctx.now), finished.emit('ran')) });
    a.register(task());
    b.register(task());
    await Promise.all([a.start(), b.start()]);
    for (let turn = 1; turn <= 3; turn++) {
      await clock.waitForSleepers(2);
      const ran1 = once(finished, 'ran', { signal: AbortSignal.timeout(20_000) });
      clock.advance(60_000);
      await ran1;
      await clock.waitForSleepers(2);
    }
    const start = Date.UTC(2026, 0, 1);
    expect(ran.map((t) => t - start)).toEqual([60_000, 120_000, 180_000]);
    const states = (await jobs('once-each')).map((job) => job.state);
    expect(states.filter((state) => state === 'completed')).toHaveLength(3);
    expect(states.filter((state) => state === 'created')).toHaveLength(1); // the next turn, waiting
  });

  it(`a holder that died between turns (its job left waiting) is taken over once the turn is overdue by takeoverInterval (${kind})`, async () => {
    const clock = new ManualClock();
    const queue = taskQueue('orphan');
    const b0 = await boss();
    await ensureQueue(b0, queue, { policy: 'stately' });
    await b0.send(queue, { due: clock.now() + 10_000, holder: 'a-dead-instance' } satisfies TurnJob);
    const runner = newRunner(clock);
    const ran: number[] = [];
    runner.register({ name: 'orphan', on: 'interval', interval: 60, singleton: true, run: (ctx) => void ran.push(ctx.now) });
    await runner.start();
    await clock.waitForSleepers(1);
    clock.advance(14_999); // due + takeoverInterval not reached: the dead holder still has it
    await clock.waitForSleepers(1);
    expect(ran).toEqual([]);
    const taken = next(runner, 'acquired', 'orphan');
    const ran1 = next(runner, 'run', 'orphan');
    clock.advance(1);
    await taken;
    await ran1;
    expect(ran).toEqual([clock.now()]);
    await clock.waitForSleepers(1);
    expect((await jobs('orphan')).at(-1)).toMatchObject({ state: 'created', data: { due: clock.now() + 60_000, holder: expect.any(String) } });
  });

  it(`a holder that died during a run: its job expires (timeout + takeoverInterval) and another instance runs the task (${kind})`, async () => {
    const queue = taskQueue('expired');
    const b0 = await boss();
    await ensureQueue(b0, queue, { policy: 'stately' });
    await b0.send(queue, { due: Date.now(), holder: 'a-dead-instance' } satisfies TurnJob, { expireInSeconds: 1, retryLimit: 0 });
    const [fetched] = await b0.fetch(queue); // the dead instance had started it
    expect(fetched).toBeDefined();
    const runner = newRunner(systemClock, { takeoverInterval: 0.2 });
    const ran = next(runner, 'run', 'expired');
    runner.register({ name: 'expired', on: 'interval', interval: 3600, immediate: true, singleton: true, run: () => undefined });
    await runner.start();
    await ran;
    // the run is reported before its job is completed and the next sent (one transaction)
    const deadline = Date.now() + 20_000;
    while ((await jobs('expired')).length < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    const states = (await jobs('expired')).map((job) => job.state);
    expect(states).toEqual(['failed', 'completed', 'created']); // the dead run failed by expiry, the takeover's run, the next turn
  });

  it('a hung startup task is aborted after startupTimeout, logged failed, and start() goes on (the next startup task runs)', async () => {
    const runner = newRunner(new ManualClock(), { startupTimeout: 0.3 });
    let sawAbort: unknown = null;
    const order: string[] = [];
    runner.register(
      {
        name: 'hangs',
        on: 'startup',
        priority: 1,
        run: ({ signal }) =>
          new Promise<void>(() => {
            signal.addEventListener('abort', () => (sawAbort = signal.reason), { once: true });
          }), // never settles
      },
      { name: 'after', on: 'startup', run: () => void order.push('after') },
    );
    const failed = next(runner, 'failure', 'hangs');
    await runner.start();
    const [, attempt, error] = await failed;
    expect(attempt).toBe(1);
    expect(error).toMatchObject({ code: 'FUSION_ERR_TIMEOUT', message: expect.stringContaining('0.3 s') });
    expect(sawAbort).toBe(error);
    expect(order).toEqual(['after']);
    await runner.stop(); // the hung run is not waited for
  });
});
