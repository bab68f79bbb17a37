/**
 * Per-identity stream caps (`event.max_streams_per_identity`, 429 past it) and coalesced
 * presence churn (`event.presence_grace`), over real SSE connections.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Case } from '../../../src/concept/index.js';
import { EVENT_TABLE } from '../../../src/server/event/event-log.js';
import type { KnexStorage } from '../../../src/server/storage/knex-storage.js';
import { freshStorage } from '../../helpers/storage.js';
import { SseProbe, createSocCase, silenceAudit, startEventServer, until, userHeaders } from './helpers.js';

const path = (guid: string): string => `/api/events/case/${guid}`;

/** Categories of the presence events about `username` stored for case `c`. */
async function storedPresence(storage: KnexStorage, c: Case, username: string): Promise<string[]> {
  const rows = await storage.knex(EVENT_TABLE).where({ case_guid: c.guid }).whereIn('category', ['subscribe', 'unsubscribe']).orderBy('id').select('category', 'document');
  return rows
    .filter((row: { document: unknown }) => {
      const doc = (typeof row.document === 'string' ? JSON.parse(row.document) : row.document) as { ext?: { username?: string } };
      return doc.ext?.username === username;
    })
    .map((row: { category: string }) => row.category);
}

describe('event stream limits', () => {
  silenceAudit();
  let storage: KnexStorage;

  beforeAll(async () => {
    storage = await freshStorage('pglite');
  }, 60_000);

  afterAll(async () => {
    await storage?.close();
  });

  it('refuses a stream past max_streams_per_identity with 429 in the envelope, per identity, and counts closed streams out', async () => {
    const t = await startEventServer(storage, { config: { event: { max_streams_per_identity: 2, presence_grace: 0 } } });
    const open: SseProbe[] = [];
    try {
      const alice = await userHeaders(t, 'alice');
      const [c1, c2] = [await createSocCase(t, 'cap-1'), await createSocCase(t, 'cap-2')];
      open.push(await SseProbe.open(t.baseUrl, path(c1.guid), alice));
      open.push(await SseProbe.open(t.baseUrl, path(c2.guid), alice)); // the cap counts across cases
      const refused = await SseProbe.open(t.baseUrl, path(c1.guid), alice).then(
        () => null,
        (error: { status?: number; body?: unknown }) => error,
      );
      expect(refused).toMatchObject({ status: 429, body: { status: 429, code: 'FUSION_ERR_RATE_LIMITED' } });
      expect((refused?.body as { message: string }).message).toMatch(/^too many event streams: "alice" holds 2 open on this instance \(event\.max_streams_per_identity: 2\)/);
      open.push(await SseProbe.open(t.baseUrl, path(c1.guid), await userHeaders(t, 'bob'))); // another identity is not affected
      await open.shift()!.close();
      await until(() => t.events.streamCount === 2, 10_000, 'the closed stream counted out');
      open.push(await SseProbe.open(t.baseUrl, path(c1.guid), alice));
      await open.at(-1)!.waitForCount(1);
    } finally {
      for (const probe of open) await probe.close();
      await t.close();
    }
  });

  it('coalesces churn: streams opened and closed within the grace write one subscribe and no unsubscribe; shutdown writes the pending one', async () => {
    const t = await startEventServer(storage, { config: { event: { presence_grace: 600 } } });
    let closed = false;
    try {
      const c = await createSocCase(t, 'churn');
      const bob = await SseProbe.open(t.baseUrl, path(c.guid), await userHeaders(t, 'bob'));
      try {
        await bob.waitForCount(1);
        const alice = await userHeaders(t, 'alice');
        for (let i = 0; i < 5; i++) {
          const probe = await SseProbe.open(t.baseUrl, path(c.guid), alice);
          await probe.waitForCount(1);
          await probe.close();
          await until(() => t.events.streamCount === 1, 10_000, "alice's stream counted out");
        }
        await t.events.notify('marker', c, {});
        const seen = await bob.waitFor((events) => events.some((e) => e.category === 'marker'));
        expect(seen.filter((e) => e.ext?.username === 'alice').map((e) => e.category)).toEqual(['subscribe']);
        expect(await storedPresence(storage, c, 'alice')).toEqual(['subscribe']);
        expect(await t.events.subscribers(c.guid)).toEqual(['alice', 'bob']); // listed during the grace
      } finally {
        await bob.close();
      }
      await t.close();
      closed = true;
      expect(await storedPresence(storage, c, 'alice')).toEqual(['subscribe', 'unsubscribe']);
    } finally {
      if (!closed) await t.close();
    }
  });

  it('writes the unsubscribe once the grace has passed with no new stream', async () => {
    const t = await startEventServer(storage, { config: { event: { presence_grace: 0.2 } } });
    try {
      const c = await createSocCase(t, 'grace');
      const bob = await SseProbe.open(t.baseUrl, path(c.guid), await userHeaders(t, 'bob'));
      try {
        await bob.waitForCount(1);
        const alice = await SseProbe.open(t.baseUrl, path(c.guid), await userHeaders(t, 'alice'));
        await alice.waitForCount(1);
        await alice.close();
        const events = await bob.waitFor((list) => list.some((e) => e.category === 'unsubscribe'));
        expect(events.filter((e) => e.ext?.username === 'alice').map((e) => e.category)).toEqual(['subscribe', 'unsubscribe']);
        expect(await t.events.subscribers(c.guid)).toEqual(['bob']);
      } finally {
        await bob.close();
      }
    } finally {
      await t.close();
    }
  });
});
