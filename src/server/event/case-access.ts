/**
 * Whether a subscriber of a case's events may still receive them: an `update_case` event
 * carries the case as updated, so a change of its ACS that shuts the subscriber out is seen
 * on that event (the SSE stream ends, the RPC channel `case/<guid>` drops the member).
 */
import type { Case, Identity } from '../../concept/index.js';
import type { FusionHost } from '../host.js';
import type { EventRow } from './event-log.js';

/** Parsed cases of update events, shared by every subscriber of one event. */
export type CaseAccessCache = WeakMap<EventRow, Case | null>;

/** False when `event` is an update_case event whose case no longer lets `identity` in. */
export function stillAllowedAfter(host: Pick<FusionHost, 'authorizer' | 'caseClass'>, identity: Identity, event: EventRow, cache?: CaseAccessCache): boolean {
  const authorizer = host.authorizer;
  if (!authorizer || event.category !== 'update_case') return true;
  let caseObj = cache?.get(event);
  if (caseObj === undefined) {
    try {
      caseObj = host.caseClass.fromJSON((JSON.parse(event.document) as { case?: unknown }).case) as Case;
    } catch {
      caseObj = null;
    }
    cache?.set(event, caseObj);
  }
  return caseObj === null || authorizer.canAccessCase(identity, caseObj);
}
