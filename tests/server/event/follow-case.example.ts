/** The consuming service of docs/events.md (docs-example.test.ts keeps both identical and runs it). */
import { FusionEventAPIClient } from '../../../src/client/api/event.js';
import { FusionClient } from '../../../src/client/client.js';
import type { Event } from '../../../src/concept/index.js';

/** Follows one case of another service until `signal` aborts, handing each event to `handle`. */
export async function followCase(
  baseUrl: string,
  apiKey: string,
  caseGuid: string,
  signal: AbortSignal,
  handle: (event: Event) => Promise<void>,
): Promise<string | null> {
  const client = new FusionClient({ baseUrl, apiKey });
  const events = new FusionEventAPIClient({ client });
  const subscription = events.subscribe(caseGuid, { signal });
  try {
    for await (const event of subscription) {
      if (event.category === 'subscribers' || event.category === 'subscribe' || event.category === 'unsubscribe') continue;
      if (event.category === 'reset') {
        // Events were missed for good (retention): reload the state you derive from them.
      }
      await handle(event); // a dropped connection is resumed with Last-Event-ID meanwhile
    }
  } finally {
    await client.close();
  }
  return subscription.lastEventId; // keep it to resume later: subscribe(guid, { lastEventId })
}
