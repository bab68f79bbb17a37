/**
 * FusionTaskRunner: runs a service's tasks in one process. Startup tasks run at `start()` and
 * shutdown tasks at `stop()`, by priority; interval and cron tasks run on their schedule, one
 * run at a time per task (no overlap), a failing run retried with backoff and logged, never
 * thrown. A singleton task runs in the one instance holding its advisory lock; the others try
 * to take it every `takeoverInterval` seconds, so when the holder dies (its PostgreSQL session
 * ends with it) another instance runs the task within that bound. Each attempt is a
 * `fusion.task.run` span, a failure recorded on it.
 */
import { EventEmitter } from 'node:events';
import { ROOT_CONTEXT } from '@opentelemetry/api';
import { FusionError } from '../../helper/errors.js';
import { getLogger } from '../../helper/logging.js';
import type { FusionLogger } from '../../helper/logging.js';
import { withSpan } from '../../helper/telemetry.js';
import type { FusionStorage } from '../storage/storage.js';
import { systemClock } from './clock.js';
import type { TaskClock } from './clock.js';
import { nextCronTime, parseCron } from './cron.js';
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
  /** Seconds between two attempts to take a singleton task held by another instance (default 5). */
  readonly takeoverInterval?: number;
}

/** What the runner reports (for logs, metrics and tests). */
export interface TaskRunnerEvents {
  /** A run ended well: task name, attempt, returned value. */
  run: [name: string, attempt: number];
  /** A run failed (it is retried when attempts remain). */
  failure: [name: string, attempt: number, error: unknown];
  /** This instance now holds a singleton task. */
  acquired: [name: string];
  /** This instance released a singleton task (stop, or lock lost). */
  released: [name: string];
  /** A run was not started because the previous one was still running. */
  skipped: [name: string];
}

/** Key of a singleton task's advisory lock. */
export function taskLockKey(name: string): string {
  return `fusion:task:${name}`;
}

const DEFAULT_RETRY = { limit: 2, delay: 1, backoff: true } as const;

/** Runs tasks (see the file comment). */
export class FusionTaskRunner extends EventEmitter<TaskRunnerEvents> {
  readonly #storage: FusionStorage;
  readonly #logger: FusionLogger;
  readonly #clock: TaskClock;
  readonly #takeoverMs: number;
  readonly #tasks = new Map<string, FusionTask>();
  readonly #running = new Map<string, Promise<unknown>>();
  readonly #loops: Promise<void>[] = [];
  #stop = new AbortController();
  #state: 'idle' | 'started' | 'stopped' = 'idle';

  constructor(options: TaskRunnerOptions) {
    super();
    if (!options?.storage) throw new TypeError('FusionTaskRunner: options.storage is required');
    const takeover = options.takeoverInterval ?? 5;
    if (!(typeof takeover === 'number' && takeover > 0)) throw new RangeError(`takeoverInterval must be a number of seconds > 0, got ${String(takeover)}`);
    this.#storage = options.storage;
    this.#logger = options.logger ?? getLogger('server.task');
    this.#clock = options.clock ?? systemClock;
    this.#takeoverMs = takeover * 1000;
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
    for (const task of this.#byPriority('startup')) await this.#runWithRetry(task, this.#stop.signal);
    for (const task of this.#tasks.values()) {
      if (task.on === 'interval' || task.on === 'cron') this.#loops.push(this.#loop(task));
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
    if (!wasStarted) return;
    for (const task of this.#byPriority('shutdown')) await this.#runWithRetry(task, new AbortController().signal);
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
    if (!task.singleton) return (await this.#runWithRetry(task, signal)).ok;
    return this.#storage.withAdvisoryLock(taskLockKey(name), async (lost) => (await this.#runWithRetry(task, AbortSignal.any([signal, lost]))).ok);
  }

  #byPriority(trigger: 'startup' | 'shutdown'): FusionTask[] {
    return [...this.#tasks.values()].filter((task) => task.on === trigger).sort((a, b) => (b.priority ?? 0) - (a.priority ?? 0));
  }

  async #loop(task: FusionTask): Promise<void> {
    const stop = this.#stop.signal;
    if (!task.singleton) {
      await this.#schedule(task, stop).catch(ignoreAbort(stop));
      return;
    }
    while (!stop.aborted) {
      try {
        const attempt = await this.#storage.tryAdvisoryLock(taskLockKey(task.name), async (lost) => {
          this.emit('acquired', task.name);
          this.#logger.info({ task: task.name }, 'holding singleton task');
          try {
            await this.#schedule(task, AbortSignal.any([stop, lost]));
          } finally {
            this.emit('released', task.name);
          }
        });
        if (attempt.acquired && !stop.aborted) continue; // lock lost: try again at once
      } catch (error) {
        if (stop.aborted) return;
        this.#logger.warn({ err: error, task: task.name }, 'singleton task: cannot take its lock');
      }
      await this.#clock.sleep(this.#takeoverMs, stop).catch(ignoreAbort(stop));
    }
  }

  /** Runs `task` on its schedule until `signal` aborts. */
  async #schedule(task: FusionTask, signal: AbortSignal): Promise<void> {
    const cron = task.on === 'cron' ? parseCron(task.cron!) : null;
    const intervalMs = (task.interval ?? 0) * 1000;
    let due = cron ? nextCronTime(cron, this.#clock.now()) : this.#clock.now() + (task.immediate ? 0 : intervalMs);
    try {
      while (!signal.aborted) {
        await this.#clock.sleep(due - this.#clock.now(), signal);
        const { value } = await this.#runWithRetry(task, signal);
        const now = this.#clock.now();
        if (cron) due = nextCronTime(cron, Math.max(now, due));
        else due = now + (typeof value === 'number' && value > 0 && Number.isFinite(value) ? value * 1000 : intervalMs);
      }
    } catch (error) {
      if (!signal.aborted) throw error;
    }
  }

  /** One turn: the run and its retries (with backoff); failures are logged, never thrown. */
  async #runWithRetry(task: FusionTask, signal: AbortSignal): Promise<{ ok: boolean; value: number | void }> {
    if (this.#running.has(task.name)) {
      this.emit('skipped', task.name);
      return { ok: false, value: undefined };
    }
    const retry = { ...DEFAULT_RETRY, ...task.retry };
    const turn = (async (): Promise<{ ok: boolean; value: number | void }> => {
      for (let attempt = 1; attempt <= retry.limit + 1; attempt++) {
        const context: TaskContext = {
          name: task.name,
          signal,
          storage: this.#storage,
          logger: this.#logger.child({ task: task.name }),
          attempt,
          now: this.#clock.now(),
        };
        try {
          // Each attempt is a root span: a run belongs to no request.
          const attributes = { 'fusion.task.name': task.name, 'fusion.task.trigger': task.on, 'fusion.task.attempt': attempt };
          const value = await withSpan('fusion.task.run', attributes, () => task.run(context), { parent: ROOT_CONTEXT });
          this.emit('run', task.name, attempt);
          return { ok: true, value };
        } catch (error) {
          this.#logger.error({ err: error, task: task.name, attempt }, attempt <= retry.limit && !signal.aborted ? 'task failed: retrying' : 'task failed');
          this.emit('failure', task.name, attempt, error);
          if (attempt > retry.limit || signal.aborted) break;
          const delay = retry.delay * 1000 * (retry.backoff ? 2 ** (attempt - 1) : 1);
          try {
            await this.#clock.sleep(delay, signal);
          } catch {
            break;
          }
        }
      }
      return { ok: false, value: undefined };
    })();
    this.#running.set(task.name, turn);
    try {
      return await turn;
    } finally {
      this.#running.delete(task.name);
    }
  }
}

function ignoreAbort(signal: AbortSignal): (error: unknown) => void {
  return (error) => {
    if (!signal.aborted) throw error;
  };
}
