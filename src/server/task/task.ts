/** What a task is: when it runs (startup, shutdown, interval, cron), how, and how it is retried. */
import { FusionError } from '../../helper/errors.js';
import type { FusionLogger } from '../../helper/logging.js';
import type { FusionStorage } from '../storage/storage.js';
import { parseCron } from './cron.js';

/** When a task runs. */
export type TaskTrigger = 'startup' | 'shutdown' | 'interval' | 'cron';

/** How a failing run is retried before the task waits for its next turn. */
export interface TaskRetry {
  /** Retries after the first failure (default 2). */
  readonly limit?: number;
  /** Seconds before the first retry (default 1). */
  readonly delay?: number;
  /** Double the delay at each retry (default true). */
  readonly backoff?: boolean;
}

/** What a run receives. */
export interface TaskContext {
  /** The task's name. */
  readonly name: string;
  /** Aborts when the runner stops (or a singleton's lock is lost): finish or give up quickly. */
  readonly signal: AbortSignal;
  /** The storage the runner shares with the other instances. */
  readonly storage: FusionStorage;
  /** A logger named after the task. */
  readonly logger: FusionLogger;
  /** 1 for a first try, 2 for the first retry... */
  readonly attempt: number;
  /** The runner's clock time (ms) when the run started. */
  readonly now: number;
}

/**
 * A task. An interval task's `run` may return the seconds until its next run (a number > 0),
 * overriding `interval` for that turn.
 */
export interface FusionTask {
  /** Unique name (letters, digits, `_`, `-`, `.`, `:`). */
  readonly name: string;
  /** When it runs. */
  readonly on: TaskTrigger;
  /** `interval`: seconds between the end of a run and the start of the next. */
  readonly interval?: number;
  /** `cron`: a five-field UTC cron expression. */
  readonly cron?: string;
  /** `interval`: run once when the runner starts instead of after the first interval (default false). */
  readonly immediate?: boolean;
  /** `startup`/`shutdown`: higher runs first (default 0; equal priorities keep registration order). */
  readonly priority?: number;
  /** `interval`/`cron`: run on one instance at a time among those sharing the database. */
  readonly singleton?: boolean;
  /** Retries of a failing run. */
  readonly retry?: TaskRetry;
  /**
   * Seconds a turn (its attempts and retry waits) may last: then its signal aborts, the runner
   * stops waiting and logs it failed. Default: the runner's `startupTimeout` for startup tasks,
   * 900 for singletons (their pg-boss job expires `takeoverInterval` later), none otherwise.
   */
  readonly timeout?: number;
  /**
   * In a service module: `fusion serve` runs it with the HTTP server too (default false: only
   * `fusion task NAME` runs it, in a process of its own).
   */
  readonly serve?: boolean;
  /** The work. */
  run(context: TaskContext): Promise<number | void> | number | void;
}

const NAME = /^[A-Za-z0-9_.:-]{1,100}$/;

function invalid(task: { name?: unknown }, why: string): FusionError {
  return new FusionError('FUSION_ERR_TASK_INVALID', `task ${JSON.stringify(task?.name ?? null)}: ${why}`);
}

/** Checks a task's definition (throws FUSION_ERR_TASK_INVALID naming the problem) and returns it. */
export function defineTask<T extends FusionTask>(task: T): T {
  if (typeof task !== 'object' || task === null) throw invalid({}, 'a task must be an object {name, on, run}');
  if (typeof task.name !== 'string' || !NAME.test(task.name)) throw invalid(task, 'name must be 1-100 letters, digits, _ . : or -');
  if (!['startup', 'shutdown', 'interval', 'cron'].includes(task.on)) throw invalid(task, `on must be startup, shutdown, interval or cron, got ${JSON.stringify(task.on)}`);
  if (typeof task.run !== 'function') throw invalid(task, 'run must be a function');
  if (task.on === 'interval' && !(typeof task.interval === 'number' && task.interval > 0 && Number.isFinite(task.interval))) {
    throw invalid(task, `an interval task needs interval (seconds > 0), got ${String(task.interval)}`);
  }
  if (task.on === 'cron') {
    if (typeof task.cron !== 'string') throw invalid(task, 'a cron task needs cron, e.g. "0 * * * *"');
    parseCron(task.cron);
  }
  if (task.singleton && (task.on === 'startup' || task.on === 'shutdown')) throw invalid(task, 'singleton applies to interval and cron tasks only');
  if (task.serve !== undefined && typeof task.serve !== 'boolean') throw invalid(task, 'serve must be true or false');
  if (task.priority !== undefined && !Number.isFinite(task.priority)) throw invalid(task, 'priority must be a finite number');
  if (task.timeout !== undefined && !(typeof task.timeout === 'number' && task.timeout > 0 && Number.isFinite(task.timeout))) throw invalid(task, 'timeout must be a number of seconds > 0');
  const retry = task.retry ?? {};
  if (retry.limit !== undefined && !(Number.isInteger(retry.limit) && retry.limit >= 0)) throw invalid(task, 'retry.limit must be an integer >= 0');
  if (retry.delay !== undefined && !(typeof retry.delay === 'number' && retry.delay >= 0)) throw invalid(task, 'retry.delay must be a number of seconds >= 0');
  return task;
}
