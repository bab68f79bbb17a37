/** The example of docs/tasks.md (docs-example.test.ts keeps both identical and runs it). */
import { Case } from '../../../src/concept/index.js';
import { FusionTaskRunner, defineService, defineTask } from '../../../src/server/index.js';
import type { FusionTask, TaskRunnerOptions } from '../../../src/server/index.js';

/** When a case last changed (ms). */
function changedAt(caseObj: Case): number {
  return (caseObj.updated ?? caseObj.created).getTime();
}

/** A task reporting the cases changed since its previous run (a stand-in for a service's own work). */
export function refreshFeedsTask(): FusionTask {
  let seen = 0; // the newest change already reported
  return defineTask({
    name: 'refresh-feeds',
    on: 'interval',
    interval: 300, // seconds between the end of a run and the next
    singleton: true, // one instance at a time among those sharing the database
    serve: true, // `fusion serve` runs it too, not only `fusion task refresh-feeds`
    retry: { limit: 3, delay: 2, backoff: true }, // 2 s, 4 s, 8 s, then wait for the next turn
    async run({ storage, signal, logger }) {
      const changed = (await storage.enumerateCases(Case)).filter((caseObj) => changedAt(caseObj) > seen);
      signal.throwIfAborted();
      seen = Math.max(seen, ...changed.map(changedAt));
      logger.info({ changed: changed.length }, 'feeds refreshed');
      return changed.length > 0 ? 60 : undefined; // come back sooner when there was work
    },
  });
}

/** The service module (`service.module` in the config): `fusion serve` runs both tasks with the HTTP server. */
export default defineService({
  tasks: () => [refreshFeedsTask(), defineTask({ name: 'announce', on: 'startup', serve: true, run: ({ logger }) => logger.info('feeds ready') })],
});

/** Runs the task yourself, as `fusion task refresh-feeds` does. */
export async function runFeeds(options: TaskRunnerOptions): Promise<FusionTaskRunner> {
  const runner = new FusionTaskRunner(options).register(refreshFeedsTask());
  await runner.start(); // runs startup tasks, then schedules the others
  return runner; // runner.stop() lets runs in progress finish (their signal aborts), then runs shutdown tasks
}
