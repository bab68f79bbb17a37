/**
 * SerialTasks: runs a connection's callbacks one at a time, in order. Synchronous tasks run at
 * once; while an async one is pending, `pause` is called (e.g. `socket.pause()`, so a slow
 * handler slows the sender instead of growing memory) and `resume` once it settles.
 */
import { isThenable } from './frame-hooks.js';

/** Hooks of a SerialTasks queue. */
export interface SerialTasksOptions {
  /** Called when an async task starts to wait. */
  pause(): void;
  /** Called when it has settled. */
  resume(): void;
  /** Called with what a task threw or rejected with; the queue goes on. */
  failed(error: unknown): void;
}

/** An ordered queue of callbacks, run one at a time. */
export class SerialTasks {
  readonly #tasks: (() => unknown)[] = [];
  readonly #options: SerialTasksOptions;
  #running = false;

  constructor(options: SerialTasksOptions) {
    this.#options = options;
  }

  /** Queues `task`; runs it now when nothing is pending. */
  push(task: () => unknown): void {
    this.#tasks.push(task);
    if (!this.#running) this.#run();
  }

  #run(): void {
    this.#running = true;
    while (this.#tasks.length > 0) {
      const task = this.#tasks.shift()!;
      let result: unknown;
      try {
        result = task();
      } catch (error) {
        this.#options.failed(error);
        continue;
      }
      if (isThenable(result)) {
        this.#options.pause();
        result.then(undefined, (error: unknown) => this.#options.failed(error)).then(() => {
          this.#options.resume();
          this.#run();
        });
        return;
      }
    }
    this.#running = false;
  }
}

/** Calls `call` on each item in order, awaiting only results that are promises (sync while they are). */
export function runInOrder<T>(items: readonly T[], call: (item: T) => unknown, from = 0): unknown {
  for (let i = from; i < items.length; i++) {
    const result = call(items[i]!);
    if (isThenable(result)) return Promise.resolve(result).then(() => runInOrder(items, call, i + 1));
  }
  return undefined;
}
