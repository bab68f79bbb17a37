import { afterEach, describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import { createLogger, setRootLogger } from '../../src/helper/logging.js';
import { every, measure, sleep, startTimer, Timer } from '../../src/helper/timer.js';
import { expectDocumentedExample } from './docs-example.js';

afterEach(() => setRootLogger(undefined));

describe('Timer / measure', () => {
  it('counts elapsed milliseconds on the monotonic clock and resets', async () => {
    const timer = startTimer();
    expect(timer).toBeInstanceOf(Timer);
    // Long enough that no scheduling pause on a loaded machine falls between reset() and the next read.
    await sleep(500);
    const first = timer.elapsedMs;
    expect(first).toBeGreaterThanOrEqual(499);
    expect(timer.elapsedMs).toBeGreaterThanOrEqual(first);
    expect(timer.reset()).toBeGreaterThanOrEqual(first);
    expect(timer.elapsedMs).toBeLessThan(first);
  });

  it('measure returns the result and the duration, and lets errors through', async () => {
    const { result, ms } = await measure(async () => {
      await sleep(10);
      return 'done';
    });
    expect(result).toBe('done');
    expect(ms).toBeGreaterThanOrEqual(9);
    expect((await measure(() => 42)).result).toBe(42);
    await expect(measure(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
  });
});

describe('sleep', () => {
  it('rejects with an AbortError when aborted, or at once when already aborted', async () => {
    const controller = new AbortController();
    const pending = sleep(60_000, { signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    await expect(sleep(60_000, { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('every', () => {
  it('never overlaps runs, and stops on abort after the current run ends', async () => {
    const controller = new AbortController();
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    let lastRunFinished = false;
    const done = every(
      2,
      async () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        runs++;
        lastRunFinished = false;
        if (runs === 4) controller.abort();
        await sleep(15); // longer than the interval, and ignores the signal
        lastRunFinished = true;
        running--;
      },
      { signal: controller.signal },
    );
    await done;
    expect(lastRunFinished).toBe(true);
    expect(maxRunning).toBe(1);
    expect(runs).toBe(4);
    await sleep(20);
    expect(runs).toBe(4);
  });

  it('passes the signal to each run', async () => {
    const controller = new AbortController();
    const seen: AbortSignal[] = [];
    await every(1, (signal) => {
      seen.push(signal);
      controller.abort();
    }, { signal: controller.signal, immediate: true });
    expect(seen).toEqual([controller.signal]);
    expect(seen[0]!.aborted).toBe(true);
  });

  it('waits one interval before the first run unless immediate', async () => {
    const controller = new AbortController();
    let runs = 0;
    const waiting = every(60_000, () => runs++, { signal: controller.signal });
    await sleep(10);
    controller.abort();
    await waiting;
    expect(runs).toBe(0);
  });

  it('keeps going after a failed run, reporting it to onError', async () => {
    const controller = new AbortController();
    const errors: unknown[] = [];
    let runs = 0;
    await every(
      1,
      () => {
        runs++;
        if (runs === 1) throw new Error('first fails');
        controller.abort();
      },
      { signal: controller.signal, onError: (error) => errors.push(error), immediate: true },
    );
    expect(runs).toBe(2);
    expect(errors).toEqual([new Error('first fails')]);
  });

  it('does not report a run that fails because of the stop', async () => {
    const controller = new AbortController();
    const errors: unknown[] = [];
    await every(
      1,
      async (signal) => {
        controller.abort();
        await sleep(60_000, { signal });
      },
      { signal: controller.signal, onError: (error) => errors.push(error), immediate: true },
    );
    expect(errors).toEqual([]);
  });

  it('logs failed runs through the helper.timer logger by default', async () => {
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        callback();
      },
    });
    setRootLogger(createLogger({ stream, level: 'info' }));
    const controller = new AbortController();
    await every(1, () => {
      controller.abort();
      throw new Error('disk full');
    }, { signal: controller.signal, immediate: true });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ module: 'helper.timer', level: 50, msg: 'interval run failed', err: { message: 'disk full' } });
  });

  it('refuses a non-positive interval and returns at once for an aborted signal', async () => {
    await expect(every(0, () => undefined)).rejects.toThrow('every: interval must be a positive number of milliseconds, got 0');
    await expect(every(Number.NaN, () => undefined)).rejects.toThrow(RangeError);
    let runs = 0;
    await every(1, () => runs++, { signal: AbortSignal.abort(), immediate: true });
    expect(runs).toBe(0);
  });
});

describe('docs example (docs/helpers.md, timer)', () => {
  it('runs', async () => {
    const durations: number[] = [];
    const purgeExpired = async (signal: AbortSignal) => sleep(1, { signal });
    // --- example starts
    const controller = new AbortController();
    const stopped = every(5, async (signal) => {
      const { ms } = await measure(() => purgeExpired(signal));
      durations.push(ms);
    }, { signal: controller.signal });
    await sleep(30); // ... the service runs; on shutdown:
    controller.abort();
    await stopped; // the run in progress, if any, has finished
    // --- example ends
    expect(durations.length).toBeGreaterThanOrEqual(1);
  });

  it('is the one docs/helpers.md shows', () => {
    expectDocumentedExample('tests/helper/timer.test.ts', 'timer');
  });
});
