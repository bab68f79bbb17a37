/**
 * The schedule of a singleton task on pg-boss. Each turn is a job in the task's queue
 * (`fusion.task.NAME`, policy `stately`: at most one job waiting and one running, whoever
 * sends it). The job's data names the turn's due time on the runner's clock and its holder,
 * the instance that ran the previous turn. The holder sleeps until the due time, fetches the
 * job (pg-boss's `SKIP LOCKED` claim: one instance gets it), runs it, then, in one
 * transaction, completes it and sends the next turn's job naming itself. The other instances
 * look at the queue every `takeoverInterval` and take the job (by fetching it) when it has no
 * holder (the holder stopped and released it) or is overdue by `takeoverInterval` (the holder
 * died between turns). A holder that dies during a run leaves its job active: pg-boss expires
 * it after `timeout + takeoverInterval` seconds (`expireInSeconds`), any instance that sees it
 * expired runs pg-boss's maintenance, and with no job left the first instance to send a new one
 * holds the task and runs it at once.
 */
import type PgBoss from 'pg-boss';
import type { FusionLogger } from '../../helper/logging.js';
import type { FusionStorage } from '../storage/storage.js';
import { bossDatabase, bossSchema } from './boss.js';
import type { TaskClock } from './clock.js';
import type { FusionTask } from './task.js';

/** The data of a turn's job. */
export interface TurnJob {
  /** When the turn is due, on the runner's clock (ms since the epoch). */
  due: number;
  /** The instance that runs it; null when any instance may (the holder released it). */
  holder: string | null;
}

/** The pg-boss queue of task `name`. */
export function taskQueue(name: string): string {
  return `fusion.task.${name}`;
}

/** Default seconds a singleton run may last (its signal aborts then; the job expires a takeover interval later). */
export const DEFAULT_SINGLETON_TIMEOUT = 900;

/** The runner's schedule: when the turn after one that ended at `after` is due (`first`: no turn before; `value`: what the run returned). */
export type NextDue = (task: FusionTask, after: number, first: boolean, value?: number | void) => number;

/** A turn's result as the runner reports it. */
export interface TurnResult {
  ok: boolean;
  value: number | void;
}

/** What a SingletonJobs needs from its runner. */
export interface SingletonJobsOptions {
  readonly boss: PgBoss;
  readonly storage: FusionStorage;
  readonly clock: TaskClock;
  readonly logger: FusionLogger;
  /** This runner's identity in the jobs' `holder`. */
  readonly instance: string;
  readonly takeoverMs: number;
  /** Runs one turn of `task` (attempts and retries), bounded by the task's timeout. */
  runTurn(task: FusionTask, signal: AbortSignal): Promise<TurnResult>;
  /** This instance holds the task now (true) or no longer (false). */
  holding(task: FusionTask, held: boolean): void;
}

interface LiveJob {
  id: string;
  state: 'created' | 'retry' | 'active';
  data: TurnJob;
  expired: boolean;
}

function isTurn(data: unknown): data is TurnJob {
  const turn = data as Partial<TurnJob> | null;
  return typeof turn === 'object' && turn !== null && typeof turn.due === 'number' && (turn.holder === null || typeof turn.holder === 'string');
}

/** The singleton schedules of one runner (see the file comment). */
export class SingletonJobs {
  readonly #options: SingletonJobsOptions;

  constructor(options: SingletonJobsOptions) {
    this.#options = options;
  }

  /** The send options of a turn's job: no pg-boss retry (a failed turn waits for the next), expiry after timeout + takeover. */
  #sendOptions(task: FusionTask): PgBoss.SendOptions {
    const timeout = task.timeout ?? DEFAULT_SINGLETON_TIMEOUT;
    return { retryLimit: 0, expireInSeconds: Math.max(1, Math.ceil(timeout + this.#options.takeoverMs / 1000)) };
  }

  /** The job waiting or running in the task's queue (running first), or null. */
  async #live(task: FusionTask): Promise<LiveJob | null> {
    const { storage } = this.#options;
    const result = await storage.knex.raw<{ rows: LiveJob[] }>(
      `SELECT id, state, data, (state = 'active' AND started_on + expire_in < now()) AS expired
         FROM ${bossSchema(storage)}.job WHERE name = ? AND state < 'completed'
        ORDER BY (state = 'active') DESC, created_on LIMIT 1`,
      [taskQueue(task.name)],
    );
    const row = result.rows[0];
    if (!row) return null;
    return { ...row, data: isTurn(row.data) ? row.data : { due: 0, holder: null } };
  }

  /** Completes `jobId` and sends the next turn in one transaction; false when the job was no longer ours (expired). */
  async #handOver(task: FusionTask, jobId: string, output: object, next: TurnJob | null): Promise<boolean> {
    const { boss, storage } = this.#options;
    const queue = taskQueue(task.name);
    return storage.transaction(async (tx) => {
      const db = bossDatabase(tx.knex);
      // pg-boss 10 answers { affected } (its types say void).
      const done = (await boss.complete(queue, jobId, output, { db })) as unknown as { affected: number };
      if (done.affected === 0) return false;
      if (next) await boss.send(queue, next, { ...this.#sendOptions(task), db });
      return true;
    });
  }

  /**
   * Runs `task`'s turns until `signal` aborts (see the file comment). `nextDue(task, after,
   * first)` is the runner's schedule: the due time after a turn ended at `after` (or the first).
   */
  async loop(task: FusionTask, signal: AbortSignal, nextDue: NextDue): Promise<void> {
    const { boss, clock, logger, instance, takeoverMs } = this.#options;
    const queue = taskQueue(task.name);
    while (!signal.aborted) {
      try {
        const live = await this.#live(task);
        const now = clock.now();
        if (live === null) {
          const sent = await boss.send(queue, { due: nextDue(task, now, true), holder: instance } satisfies TurnJob, this.#sendOptions(task));
          if (sent !== null) this.#options.holding(task, true);
          continue; // sent, or another instance's job came first: look again
        }
        if (live.state === 'active') {
          if (live.expired) await boss.maintain(); // its holder died mid-run: fail it, then the queue is free
          await clock.sleep(takeoverMs, signal);
          continue;
        }
        const { due, holder } = live.data;
        const mine = holder === instance;
        if (!mine && holder !== null && now < due + takeoverMs) {
          this.#options.holding(task, false);
          await clock.sleep(Math.min(takeoverMs, due + takeoverMs - now), signal);
          continue;
        }
        if (mine && now < due) {
          this.#options.holding(task, true);
          await clock.sleep(due - now, signal);
          continue;
        }
        // Due for its holder, free, or overdue: claim the job.
        const [job] = await boss.fetch<TurnJob>(queue, { batchSize: 1 });
        if (!job) continue;
        const data = isTurn(job.data) ? job.data : { due: 0, holder: null };
        if (signal.aborted) {
          // Stopping: give the job back to whoever comes next.
          await this.#handOver(task, job.id, { releasedBy: instance }, { due: data.due, holder: data.holder === instance ? null : data.holder });
          break;
        }
        if (job.id !== live.id || clock.now() < data.due) {
          // Not the job looked at, or not due yet: send it back with me as its holder.
          await this.#handOver(task, job.id, { handedTo: instance }, { due: data.due, holder: instance });
          this.#options.holding(task, true);
          continue;
        }
        this.#options.holding(task, true);
        const result = await this.#options.runTurn(task, signal);
        const next = nextDue(task, clock.now(), false, result.value);
        const kept = await this.#handOver(task, job.id, { ok: result.ok, by: instance }, { due: next, holder: instance });
        if (!kept) {
          logger.warn({ task: task.name }, 'singleton run outlived its job (timeout + takeover interval): another instance may have taken over');
          this.#options.holding(task, false);
        }
      } catch (error) {
        if (signal.aborted) break;
        logger.warn({ err: error, task: task.name }, 'singleton task: cannot reach its queue');
        await clock.sleep(takeoverMs, signal).catch(() => undefined);
      }
    }
  }

  /** Releases `task`'s waiting job when this instance holds it (the others may take it at once). */
  async release(task: FusionTask): Promise<void> {
    const live = await this.#live(task);
    if (live === null || live.state === 'active' || live.data.holder !== this.#options.instance) return;
    const [job] = await this.#options.boss.fetch<TurnJob>(taskQueue(task.name), { batchSize: 1 });
    if (!job) return;
    const data = isTurn(job.data) ? job.data : { due: live.data.due, holder: null };
    const holder = data.holder === this.#options.instance ? null : data.holder;
    await this.#handOver(task, job.id, { releasedBy: this.#options.instance }, { due: data.due, holder });
  }

  /**
   * Runs one turn of `task` now (`fusion task NAME --once`): waits while another instance runs
   * it, takes the waiting job (or sends one), runs it, and leaves the next turn to the job's holder.
   */
  async once(task: FusionTask, signal: AbortSignal, nextDue: NextDue): Promise<TurnResult> {
    const { boss, clock, takeoverMs } = this.#options;
    const queue = taskQueue(task.name);
    for (;;) {
      signal.throwIfAborted();
      const live = await this.#live(task);
      if (live === null) {
        await boss.send(queue, { due: clock.now(), holder: null } satisfies TurnJob, this.#sendOptions(task));
        continue;
      }
      if (live.state === 'active') {
        if (live.expired) await boss.maintain();
        await clock.sleep(Math.min(takeoverMs, 1000), signal);
        continue;
      }
      const [job] = await boss.fetch<TurnJob>(queue, { batchSize: 1 });
      if (!job) continue;
      const holder = isTurn(job.data) ? job.data.holder : null;
      const result = await this.#options.runTurn(task, signal);
      await this.#handOver(task, job.id, { ok: result.ok, by: this.#options.instance, once: true }, { due: nextDue(task, clock.now(), false, result.value), holder });
      return result;
    }
  }
}
