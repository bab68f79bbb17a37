/**
 * ServerTasks: the tasks registered on a FusionServer (`server.addTask`). They run with the
 * HTTP server: a FusionTaskRunner starts them once the server listens (startup tasks first) and
 * stops them when it closes (runs in progress see their signal abort, then shutdown tasks run,
 * storage still open). A server that only `start()`s (the `fusion task` and `fusion analyzer`
 * roles, tests using inject) never runs them.
 */
import { FusionError } from '../../helper/errors.js';
import type { FusionLogger } from '../../helper/logging.js';
import type { FusionMetrics } from '../metrics/registry.js';
import type { FusionStorage } from '../storage/storage.js';
import { FusionTaskRunner } from './runner.js';
import type { TaskRunnerOptions } from './runner.js';
import { defineTask } from './task.js';
import { countTaskRuns } from './task-metrics.js';
import type { FusionTask } from './task.js';

/** The task registry of one server and the runner that runs it. */
export class ServerTasks {
  readonly #tasks: FusionTask[] = [];
  #runner: FusionTaskRunner | null = null;
  #starting: Promise<void> | null = null;
  #stopping: Promise<void> | null = null;

  /** Adds tasks (checked now: a bad definition or a name registered twice throws FUSION_ERR_TASK_INVALID). */
  add(tasks: readonly FusionTask[]): void {
    if (this.#starting) throw new FusionError('FUSION_ERR_TASK_INVALID', 'add tasks to the server before listen()');
    for (const task of tasks) {
      defineTask(task);
      if (this.#tasks.some((other) => other.name === task.name)) throw new FusionError('FUSION_ERR_TASK_INVALID', `task ${JSON.stringify(task.name)} is registered on the server already`);
    }
    this.#tasks.push(...tasks);
  }

  /** The registered tasks, in registration order. */
  get list(): readonly FusionTask[] {
    return this.#tasks;
  }

  /** The runner once started (for its events), else null. */
  get runner(): FusionTaskRunner | null {
    return this.#runner;
  }

  /** Starts the runner over `storage`, its runs counted on `metrics` (once; nothing to do without tasks). */
  start(storage: FusionStorage, logger: FusionLogger, metrics: FusionMetrics, options: Omit<TaskRunnerOptions, 'storage' | 'logger'> = {}): Promise<void> {
    this.#starting ??= (async () => {
      if (this.#tasks.length === 0 || this.#stopping) return;
      this.#runner = new FusionTaskRunner({ ...options, storage, logger }).register(...this.#tasks);
      countTaskRuns(this.#runner, metrics);
      await this.#runner.start();
    })();
    return this.#starting;
  }

  /** Waits for a start in progress, then stops the runner (shutdown tasks run); idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      await this.#starting?.catch(() => undefined);
      await this.#runner?.stop();
    })();
    return this.#stopping;
  }
}
