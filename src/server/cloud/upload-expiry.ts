/**
 * The task removing abandoned tus uploads (`cloud.upload_expiry`): it sweeps every hour (more
 * often for short expiries), first when the server starts listening. On S3 the partial uploads
 * are in the shared bucket, so the task is a singleton (one instance sweeps at a time); on the
 * local driver each instance sweeps its own upload directory.
 */
import { defineTask } from '../task/task.js';
import type { FusionTask } from '../task/task.js';
import type { TusBackend } from './tus-store.js';

/** Name of the expiry task (`server.taskRunner.runOnce(UPLOAD_EXPIRY_TASK)` runs a sweep). */
export const UPLOAD_EXPIRY_TASK = 'cloud:upload-expiry';

/** Seconds between sweeps for an expiry of `expirySeconds`: a quarter of it, between one minute and one hour. */
export function sweepInterval(expirySeconds: number): number {
  return Math.min(3600, Math.max(60, Math.floor(expirySeconds / 4)));
}

/** The expiry task of `backend` (uploads older than `expirySeconds` go); `shared`: the uploads are shared by the instances. */
export function uploadExpiryTask(backend: TusBackend, expirySeconds: number, shared: boolean): FusionTask {
  return defineTask({
    name: UPLOAD_EXPIRY_TASK,
    on: 'interval',
    interval: sweepInterval(expirySeconds),
    immediate: true,
    singleton: shared,
    serve: true,
    async run({ storage, now, logger }) {
      const removed = await backend.expire(storage, new Date(now - expirySeconds * 1000));
      if (removed.length > 0) logger.info({ removed: removed.length }, 'expired tus uploads removed');
    },
  });
}
