/** Tasks on a schedule (startup, shutdown, interval, cron; singletons) and pg-boss over our storage. */
export { FusionTaskRunner } from './runner.js';
export { DEFAULT_SINGLETON_TIMEOUT, taskQueue } from './singleton-job.js';
export type { TurnJob } from './singleton-job.js';
export type { TaskRunnerEvents, TaskRunnerOptions } from './runner.js';
export { defineTask } from './task.js';
export type { FusionTask, TaskContext, TaskRetry, TaskTrigger } from './task.js';
export { ManualClock, systemClock } from './clock.js';
export type { TaskClock } from './clock.js';
export { nextCronTime, parseCron } from './cron.js';
export type { CronSchedule } from './cron.js';
export { acquireBoss, bossDatabase, bossSchema, ensureQueue } from './boss.js';
export type { AcquireBossOptions, BossLease } from './boss.js';
export { SYNC_SECTIONS, SyncStorage, syncCase } from './sync-storage.js';
export type { SyncOutcome } from './sync-storage.js';
export { readSynchronizerConfig, synchronizeCases, synchronizerTask } from './synchronizer.js';
export type { SynchronizerConfig } from './synchronizer.js';
