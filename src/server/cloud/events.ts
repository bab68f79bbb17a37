/**
 * Cloud events: `cloud_create`, `cloud_write`, `cloud_delete`, published through the event API
 * when it is mounted. Events are about cases, so a change is published when the first segment of
 * its path is the guid of an existing case (`/<case_guid>/...`, how services file evidence by
 * case); changes elsewhere have no case to be published on.
 */
import type { FusionHost } from '../host.js';
import type { CloudEntry } from '../../concept/index.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The event categories the cloud API emits. */
export type CloudEventCategory = 'cloud_create' | 'cloud_write' | 'cloud_delete';

/** Publishes `category` about `entry` on the case its path starts with, if any; never throws. */
export async function emitCloudEvent(host: FusionHost, category: CloudEventCategory, entry: CloudEntry): Promise<void> {
  const notifier = host.eventNotifier;
  const first = entry.path.split('/')[0]!;
  if (notifier === null || !GUID.test(first)) return;
  try {
    const caseObj = await host.loadCase(first);
    if (caseObj === null) return;
    await notifier.notify(category, caseObj, { path: `/${entry.path}`, type: entry.type, size: entry.size, sha256: entry.sha256 });
  } catch (error) {
    host.logger.warn({ err: error, category, path: entry.path }, 'cloud: publishing the event failed');
  }
}
