/**
 * FusionTaskRunner: runs a service's tasks in one process. Startup tasks run at `start()` (each
 * bounded by its timeout, default `startupTimeout`) and shutdown tasks at `stop()`, by
 * priority; interval and cron tasks run on their schedule, one run at a time per task (no
 * overlap), a failing run retried with backoff and logged, never thrown. The runner's clock
 * decides when a turn is due. A singleton task's turns are pg-boss jobs shared by the instances
 * on the same database (singleton-job.ts): one instance holds the task and runs each due job;
 * the others take it over when it stops or dies. Each attempt is a `fusion.task.run` span, a
 * failure recorded on it.
 */
import { EventEmitter } from 'node:events';
import { ROOT_CONTEXT } from '@opentelemetry/api';
import { FusionError } from '../../helper/errors.js';
import { getLogger } from '../../helper/logging.js';
import type { FusionLogger } from '../../helper/logging.js';
import { withSpan } from '../../helper/telemetry.js';
import type { FusionStorage } from '../storage/storage.js';
import { acquireBoss, ensureQueue } from './boss.js';
import type { BossLease } from './boss.js';
import { systemClock } from './clock.js';
import type { TaskClock } from './clock.js';
import { nextCronTime, parseCron } from './cron.js';
import { DEFAULT_SINGLETON_TIMEOUT, SingletonJobs, taskQueue } from './singleton-job.js';
import type { TurnResult } from './singleton-job.js';
import { defineTask } from './task.js';
import type { FusionTask, TaskContext } from './task.js';

/** Options of FusionTaskRunner. */
export interface TaskRunnerOptions {
  /** The storage tasks use and singleton locks live in. */
  readonly storage: FusionStorage;
  /** Logger (default: `server.task`). */
  readonly logger?: FusionLogger;
  /** Clock (default: the system clock; tests pass a ManualClock). */
  readonly clock?: TaskClock;
  /**
   * Seconds between two looks at a singleton task held by another instance (default 5): it is
   * taken over when released, or overdue by this much (its holder died between runs).
   */
  readonly takeoverInterval?: number;
  /** Seconds a startup task may run before it is aborted and logged failed, so start() goes on (default 60; a task's `timeout` wins). */
  readonly startupTimeout?: number;
}

/** What the runner reports (for logs, metrics and tests). */
export interface TaskRunnerEvents {
  /** A run ended well: task name, attempt, returned value. */
  run: [name: string, attempt: number];
  /** A run failed (it is retried when attempts remain), or its turn timed out (FUSION_ERR_TIMEOUT). */
  failure: [name: string, attempt: number, error: unknown];
  /** This instance now holds a singleton task (it runs the task's next due job). */
  acquired: [name: string];
  /** This instance no longer holds a singleton task (stopped, or another instance took it). */
  released: [name: string];
  /** A run was not started because the previous one was still running. */
  skipped: [name: string];
}

const DEFAULT_RETRY = { limit: 2, delay: 1, backoff: true } as const;

/** Runs tasks (see the file comment). */
export class FusionTaskRunner extends EventEmitter<TaskRunnerEvents> {
  readonly #storage: FusionStorage;
  readonly #logger: FusionLogger;
  readonly #clock: TaskClock;
  readonly #takeoverMs: number;
  readonly #startupTimeoutMs: number;
  readonly #instance = `${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  readonly #tasks = new Map<string, FusionTask>();
  readonly #running = new Map<string, Promise<unknown>>();
  readonly #held = new Set<string>();
  readonly #loops: Promise<void>[] = [];
  #stop = new AbortController();
  #state: 'idle' | 'started' | 'stopped' = 'idle';
  #lease: Promise<BossLease> | null = null;

  constructor(options: TaskRunnerOptions) {
    super();
    if (!options?.storage) throw new TypeError('FusionTaskRunner: options.storage is required');
    const takeover = options.takeoverInterval ?? 5;
    if (!(typeof takeover === 'number' && takeover > 0)) throw new RangeError(`takeoverInterval must be a number of seconds > 0, got ${String(takeover)}`);
    this.#storage = options.storage;
    this.#logger = options.logger ?? getLogger('server.task');
    this.#clock = options.clock ?? systemClock;
    this.#takeoverMs = takeover * 1000;
    const startup = options.startupTimeout ?? 60;
    if (!(typeof startup === 'number' && startup > 0 && Number.isFinite(startup))) throw new RangeError(`startupTimeout must be a number of seconds > 0, got ${String(startup)}`);
    this.#startupTimeoutMs = startup * 1000;
  }

  /** Adds tasks (before start); a name registered twice is refused. */
  register(...tasks: FusionTask[]): this {
    if (this.#state !== 'idle') throw new FusionError('FUSION_ERR_TASK_INVALID', 'register tasks before start()');
    for (const task of tasks) {
      defineTask(task);
      if (this.#tasks.has(task.name)) throw new FusionError('FUSION_ERR_TASK_INVALID', `task ${JSON.stringify(task.name)} is registered already`);
      this.#tasks.set(task.name, task);
    }
    return this;
  }

  /** The registered tasks, in registration order. */
  get tasks(): readonly FusionTask[] {
    return [...this.#tasks.values()];
  }

  /** Runs the startup tasks (highest priority first), then schedules interval and cron tasks. */
  async start(): Promise<void> {
    if (this.#state !== 'idle') throw new FusionError('FUSION_ERR_TASK_INVALID', 'the task runner was started already');
    this.#state = 'started';
    for (const task of this.#byPriority('startup')) await this.#runWithRetry(task, this.#stop.signal, (task.timeout ?? 0) * 1000 || this.#startupTimeoutMs);
    const scheduled = [...this.#tasks.values()].filter((task) => task.on === 'interval' || task.on === 'cron');
    const singletons = scheduled.some((task) => task.singleton) ? await this.#singletons(scheduled.filter((task) => task.singleton)) : null;
    for (const task of scheduled) {
      if (task.singleton) this.#loops.push(singletons!.loop(task, this.#stop.signal, this.#nextDue));
      else this.#loops.push(this.#schedule(task, this.#stop.signal).catch(ignoreAbort(this.#stop.signal)));
    }
  }

  /**
   * Stops scheduling, lets the runs in progress finish (they see their signal abort), then
   * runs the shutdown tasks (highest priority first); idempotent.
   */
  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    const wasStarted = this.#state === 'started';
    this.#state = 'stopped';
    this.#stop.abort(new FusionError('FUSION_ERR_UNAVAILABLE', 'the task runner is stopping'));
    await Promise.allSettled(this.#loops);
    await Promise.allSettled(this.#running.values());
    const lease = await this.#lease?.catch(() => null);
    if (lease) {
      const jobs = this.#jobs(lease);
      for (const name of [...this.#held]) {
        await jobs.release(this.#tasks.get(name)!).catch((error: unknown) => this.#logger.warn({ err: error, task: name }, 'cannot release a singleton task'));
        this.#holding(name, false);
      }
    }
    try {
      if (!wasStarted) return;
      for (const task of this.#byPriority('shutdown')) await this.#runWithRetry(task, new AbortController().signal, (task.timeout ?? 0) * 1000 || undefined);
    } finally {
      await lease?.release();
    }
  }

  /**
   * Runs the named task once now (`fusion task NAME --once`), with its retries; a singleton
   * waits for its lock. Resolves true when a run succeeded. Refused while the task is running.
   */
  async runOnce(name: string): Promise<boolean> {
    const task = this.#tasks.get(name);
    if (!task) throw new FusionError('FUSION_ERR_TASK_INVALID', `no task named ${JSON.stringify(name)}; registered: ${[...this.#tasks.keys()].join(', ') || 'none'}`);
    if (this.#running.has(name)) throw new FusionError('FUSION_ERR_TASK_INVALID', `task ${JSON.stringify(name)} is running already`);
    const signal = this.#stop.signal;
    if (!task.singleton) return (await this.#runWithRetry(task, signal, this.#timeoutMs(task))).ok;
    const jobs = await this.#singletons([task]);
    return (await jobs.once(task, signal, this.#nextDue)).ok;
  }

  /** pg-boss (acquired once, released at stop) and the queues of `tasks`, as a SingletonJobs. */
  async #singletons(tasks: readonly FusionTask[]): Promise<SingletonJobs> {
    this.#lease ??= acquireBoss(this.#storage, { logger: this.#logger });
    const lease = await this.#lease;
    for (const task of tasks) await ensureQueue(lease.boss, taskQueue(task.name), { policy: 'stately' });
    return this.#jobs(lease);
  }

  #jobs(lease: BossLease): SingletonJobs {
    return new SingletonJobs({
      boss: lease.boss,
      storage: this.#storage,
      clock: this.#clock,
      logger: this.#logger,
      instance: this.#instance,
      takeoverMs: this.#takeoverMs,
      runTurn: (task, signal) => this.#runWithRetry(task, signal, this.#timeoutMs(task)),
      holding: (task, held) => this.#holding(task.name, held),
    });
  }

  #holding(name: string, held: boolean): void {
    if (held === this.#held.has(name)) return;
    if (held) {
      this.#held.add(name);
      this.#logger.info({ task: name }, 'holding singleton task');
      this.emit('acquired', name);
    } else {
      this.#held.delete(name);
      this.emit('released', name);
    }
  }

  /** A scheduled task's timeout in ms (singletons default to DEFAULT_SINGLETON_TIMEOUT), or undefined. */
  #timeoutMs(task: FusionTask): number | undefined {
    if (task.timeout !== undefined) return task.timeout * 1000;
    return task.singleton ? DEFAULT_SINGLETON_TIMEOUT * 1000 : undefined;
  }

  /** When the turn after one that ended at `after` is due (see NextDue). */
  readonly #nextDue = (task: FusionTask, after: number, first: boolean, value?: number | void): number => {
    if (task.on === 'cron') return nextCronTime(parseCron(task.cron!), after);
    const intervalMs = (task.interval ?? 0) * 1000;
    if (first) return after + (task.immediate ? 0 : intervalMs);
    return after + (typeof value === 'number' && value > 0 && Number.isFinite(value) ? value * 1000 : intervalMs);
  };

  #byPriority(trigger: 'startup' | 'shutdown'): FusionTask[] {
    return [...this.#tasks.values()].filter((task) => task.on === trigger).sort((a, b) => (b.priority ?? 0) - (a.priority ?? 0));
  }

  /** Runs `task` on its schedule until `signal` aborts. */
  async #schedule(task: FusionTask, signal: AbortSignal): Promise<void> {
    let due = this.#nextDue(task, this.#clock.now(), true);
    try {
      while (!signal.aborted) {
        await this.#clock.sleep(due - this.#clock.now(), signal);
        const { value } = await this.#runWithRetry(task, signal, this.#timeoutMs(task));
        due = this.#nextDue(task, Math.max(this.#clock.now(), task.on === 'cron' ? due : 0), false, value);
      }
    } catch (error) {
      if (!signal.aborted) throw error;
    }
  }

  /**
   * One turn: the run and its retries (with backoff); failures are logged, never thrown. With
   * `timeoutMs`, the turn's signal aborts after that much real time (the limit guards against a
   * hung run, and a singleton's job expires on the database's clock) and the runner stops
   * waiting: the turn is logged failed with FUSION_ERR_TIMEOUT while the run, if it ignores its
   * signal, goes on unattended.
   */
  async #runWithRetry(task: FusionTask, signal: AbortSignal, timeoutMs?: number): Promise<TurnResult> {
    if (this.#running.has(task.name)) {
      this.emit('skipped', task.name);
      return { ok: false, value: undefined };
    }
    const retry = { ...DEFAULT_RETRY, ...task.retry };
    const timeout = new AbortController();
    const turnSignal = timeoutMs === undefined ? signal : AbortSignal.any([signal, timeout.signal]);
    let attempt = 0;
    const turn = (async (): Promise<TurnResult> => {
      for (attempt = 1; attempt <= retry.limit + 1; attempt++) {
        const context: TaskContext = {
          name: task.name,
          signal: turnSignal,
          storage: this.#storage,
          logger: this.#logger.child({ task: task.name }),
          attempt,
          now: this.#clock.now(),
        };
        try {
          // Each attempt is a root span: a run belongs to no request.
          const attributes = { 'fusion.task.name': task.name, 'fusion.task.trigger': task.on, 'fusion.task.attempt': attempt };
          const value = await withSpan('fusion.task.run', attributes, () => task.run(context), { parent: ROOT_CONTEXT });
          if (timeout.signal.aborted) break; // reported as timed out already
          this.emit('run', task.name, attempt);
          return { ok: true, value };
        } catch (error) {
          if (timeout.signal.aborted) break;
          this.#logger.error({ err: error, task: task.name, attempt }, attempt <= retry.limit && !turnSignal.aborted ? 'task failed: retrying' : 'task failed');
          this.emit('failure', task.name, attempt, error);
          if (attempt > retry.limit || turnSignal.aborted) break;
          const delay = retry.delay * 1000 * (retry.backoff ? 2 ** (attempt - 1) : 1);
          try {
            await this.#clock.sleep(delay, turnSignal);
          } catch {
            break;
          }
        }
      }
      return { ok: false, value: undefined };
    })();
    this.#running.set(task.name, turn);
    const timer = new AbortController();
    try {
      if (timeoutMs === undefined) return await turn;
      const expired = systemClock.sleep(timeoutMs, timer.signal).then(
        () => true,
        () => false,
      );
      const outcome = await Promise.race([turn, expired]);
      if (outcome !== true) return outcome as TurnResult;
      const error = new FusionError('FUSION_ERR_TIMEOUT', `task ${JSON.stringify(task.name)} did not finish within ${timeoutMs / 1000} s (its timeout): its signal is aborted and the runner goes on`);
      timeout.abort(error);
      this.#logger.error({ err: error, task: task.name, attempt }, 'task timed out');
      this.emit('failure', task.name, attempt, error);
      return { ok: false, value: undefined };
    } finally {
      timer.abort();
      this.#running.delete(task.name);
    }
  }
}

function ignoreAbort(signal: AbortSignal): (error: unknown) => void {
  return (error) => {
    if (!signal.aborted) throw error;
  };
}
