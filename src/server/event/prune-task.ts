/**
 * The event API's housekeeping, run every `prune_interval` seconds by one instance at a time
 * (`storage.tryAdvisoryLock`; a busy turn is skipped): deletes events older than the
 * retention, and drops the presence of instances that stopped refreshing it (crashed),
 * emitting `unsubscribe` for users now subscribed nowhere.
 */
import type { Case } from '../../concept/index.js';
import type { FusionStorage } from '../storage/storage.js';
import { pruneEvents } from './event-log.js';
import type { Presence } from './presence.js';

/** Lock key of the prune task (one instance prunes at a time). */
export const PRUNE_LOCK_KEY = 'fusion:event:prune';

/** What a prune run did; `skipped` when another instance was pruning. */
export interface PruneResult {
  readonly skipped: boolean;
  /** Events deleted. */
  readonly events: number;
  /** `unsubscribe` events emitted for expired presence. */
  readonly departures: number;
}

/** What the task needs. */
export interface PruneDeps {
  storage: FusionStorage;
  presence: Presence;
  /** Seconds events are kept. */
  retention: number;
  /** Loads a case (null when gone: no event then). */
  loadCase(guid: string): Promise<Case | null>;
  /** Stores and publishes an event. */
  notify(category: string, caseObj: Case, ext: Record<string, unknown>): Promise<unknown>;
}

/** Runs one prune turn now, unless another instance is running one. */
export async function pruneOnce(deps: PruneDeps): Promise<PruneResult> {
  const attempt = await deps.storage.tryAdvisoryLock(PRUNE_LOCK_KEY, async () => {
    const events = await pruneEvents(deps.storage.knex, deps.retention);
    let departures = 0;
    for (const { caseGuid, username } of await deps.presence.expire()) {
      const caseObj = await deps.loadCase(caseGuid);
      if (caseObj === null) continue;
      await deps.notify('unsubscribe', caseObj, { username });
      departures++;
    }
    return { skipped: false, events, departures };
  });
  return attempt.acquired ? attempt.value : { skipped: true, events: 0, departures: 0 };
}
