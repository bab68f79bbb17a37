/** The span around `notify`: `fusion.event.notify`, parent of the event's queries and of the webhook deliveries it causes. */
import type { Case } from '../../concept/index.js';
import { withSpan } from '../../helper/telemetry.js';
import type { StoredEvent } from './event-sink.js';

/** Runs `store` (the notify work) inside a `fusion.event.notify` span naming the category, case and stored event id. */
export function withNotifySpan(category: string, caseObj: Case, store: () => Promise<StoredEvent>): Promise<StoredEvent> {
  const attributes = { 'fusion.event.category': String(category), 'fusion.case.guid': String((caseObj as Partial<Case> | null)?.guid ?? '') };
  return withSpan('fusion.event.notify', attributes, async (span) => {
    const stored = await store();
    span.setAttribute('fusion.event.id', stored.id);
    return stored;
  });
}
