import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FusionEventAPIClient } from '../../src/client/api/event.js';
import { FusionClientError } from '../../src/client/errors.js';
import { Case, Event, field } from '../../src/concept/index.js';
import type { KnexStorage } from '../../src/server/storage/knex-storage.js';
import { freshStorage } from '../helpers/storage.js';
import { createSocCase, silenceAudit, startEventServer } from '../server/event/helpers.js';
import type { EventServer } from '../server/event/helpers.js';

class TimelineCase extends Case.extend('TimelineCase', { color: field.string().default('red') }) {}
class TimelineEvent extends Event.extend('TimelineEvent', { case: field.concept(TimelineCase) }) {}

/** Reads `subscription` until `stop(events)` says so, then aborts; returns what it read. */
async function readUntil(
  subscription: AsyncIterable<Event>,
  controller: AbortController,
  stop: (events: Event[]) => boolean,
  onEvent?: (event: Event, events: Event[]) => void | Promise<void>,
): Promise<Event[]> {
  const events: Event[] = [];
  for await (const event of subscription) {
    events.push(event);
    await onEvent?.(event, events);
    if (stop(events)) controller.abort();
  }
  return events;
}

describe('FusionEventAPIClient', () => {
  silenceAudit();
  let storage: KnexStorage;
  let t: EventServer;
  let events: FusionEventAPIClient;

  beforeAll(async () => {
    storage = await freshStorage('pglite');
    t = await startEventServer(storage, { server: { caseClass: TimelineCase } });
    events = new FusionEventAPIClient({ client: t.clients.service.client });
  }, 60_000);

  afterAll(async () => {
    await t?.close();
    await storage?.close();
  });

  it('checks its options and arguments', () => {
    expect(() => new FusionEventAPIClient({} as never)).toThrow('FusionEventAPIClient: client is required');
    expect(() => new FusionEventAPIClient({ client: t.clients.user.client, eventClass: 'Event' as never })).toThrow('eventClass must be Event or a subclass');
    expect(() => events.subscribe('')).toThrow(TypeError);
    expect(() => events.subscribe(randomUUID(), { lastEventId: 'abc' })).toThrow('lastEventId must be an event id');
    expect(() => events.subscribe(randomUUID(), { retryDelay: -1 })).toThrow('retryDelay must be a number of ms >= 0');
    expect(() => events.subscribe(randomUUID(), { maxRetries: 1.5 })).toThrow('maxRetries must be an integer >= 0');
  });

  it('yields `subscribers`, then the events as Event instances, and ends cleanly on abort', async () => {
    const c = await createSocCase(t, 'client');
    const controller = new AbortController();
    const subscription = events.subscribe(c.guid, { signal: controller.signal });
    const got = await readUntil(subscription, controller, (list) => list.length === 3, async (_event, list) => {
      if (list.length === 1) {
        await t.events.notify('first', c, { n: 1 });
        await t.events.notify('second', c, null);
      }
    });
    expect(got.map((e) => e.category)).toEqual(['subscribers', 'first', 'second']);
    expect(got.every((e) => e instanceof Event)).toBe(true);
    expect(got[0]!.ext).toEqual({ usernames: ['service'] });
    expect(got[1]!.ext).toEqual({ n: 1 });
    expect(got[1]!.case.guid).toBe(c.guid);
    expect(subscription.lastEventId).toMatch(/^\d+$/);
    expect(subscription.connections).toBe(1);
    expect(() => subscription[Symbol.asyncIterator]()).toThrow('can be iterated once');
  });

  it('decodes with the event class given (subclass fields of the case kept)', async () => {
    const c = await t.clients.service.case.createCase({ name: 'timeline', acs: ['soc'], color: 'blue' } as never);
    const timeline = new FusionEventAPIClient({ client: t.clients.service.client, eventClass: TimelineEvent });
    const controller = new AbortController();
    const got = await readUntil(timeline.subscribe(c.guid, { signal: controller.signal }), controller, (list) => list.length === 2, async (_event, list) => {
      if (list.length === 1) await t.clients.service.case.updateCase(c.guid, { description: 'x' });
    });
    expect(got[1]).toBeInstanceOf(TimelineEvent);
    expect(got[1]!.case).toBeInstanceOf(TimelineCase);
    expect((got[1]!.case as TimelineCase).color).toBe('blue');
    const plain = new AbortController();
    const asEvent = await readUntil(events.subscribe(c.guid, { signal: plain.signal, lastEventId: '0' }), plain, (list) => list.some((e) => e.category === 'update_case'));
    expect(asEvent.find((e) => e.category === 'update_case')!.case).not.toBeInstanceOf(TimelineCase);
  });

  it('reconnects with Last-Event-ID when connections are cut mid-stream: every event once, in order', async () => {
    const c = await createSocCase(t, 'reconnect');
    const total = 40;
    const controller = new AbortController();
    const subscription = events.subscribe(c.guid, { signal: controller.signal, retryDelay: 20 });
    let producer: Promise<void> | null = null;
    const got = await readUntil(
      subscription,
      controller,
      (list) => list.filter((e) => e.category === 'tick').length === total,
      (event, list) => {
        if (list.length === 1) {
          producer = (async () => {
            for (let n = 0; n < total; n++) {
              await t.events.notify('tick', c, { n });
              if (n === 10 || n === 25) t.server.fastify.server.closeAllConnections(); // cut every socket
            }
          })();
        }
        void event;
      },
    );
    await producer;
    expect(got.filter((e) => e.category === 'tick').map((e) => (e.ext as { n: number }).n)).toEqual([...Array(total).keys()]);
    expect(subscription.connections).toBeGreaterThanOrEqual(2);
  });

  it('resumes from `lastEventId` of an earlier subscription', async () => {
    const c = await createSocCase(t, 'later');
    const first = new AbortController();
    const earlier = events.subscribe(c.guid, { signal: first.signal });
    await readUntil(earlier, first, (list) => list.length === 2, async (_event, list) => {
      if (list.length === 1) await t.events.notify('seen', c, null);
    });
    await t.events.notify('missed', c, null);
    const second = new AbortController();
    const got = await readUntil(events.subscribe(c.guid, { signal: second.signal, lastEventId: earlier.lastEventId! }), second, (list) => list.some((e) => e.category === 'missed'));
    const categories = got.map((e) => e.category).filter((category) => category !== 'subscribe' && category !== 'unsubscribe');
    expect(categories).toEqual(['subscribers', 'missed']); // not 'seen' again
  });

  it('ends with a FusionClientError for a case that does not exist or that the user cannot read', async () => {
    const controller = new AbortController();
    const missing = events.subscribe(randomUUID(), { signal: controller.signal });
    await expect(readUntil(missing, controller, () => false)).rejects.toMatchObject({ status: 404, code: 'FUSION_ERR_CASE_NOT_FOUND' });
    const c = await createSocCase(t, 'private');
    const eve = await t.login('eve');
    const forbidden = new FusionEventAPIClient({ client: eve.client }).subscribe(c.guid, { signal: controller.signal });
    const error = await readUntil(forbidden, controller, () => false).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FusionClientError);
    expect(error).toMatchObject({ status: 403, code: 'FUSION_ERR_FORBIDDEN' });
  });

  it('gives up after maxRetries failed attempts in a row when the server is gone', async () => {
    const s = await startEventServer(storage);
    const c = await createSocCase(s, 'gone');
    const client = new FusionEventAPIClient({ client: s.clients.service.client });
    const controller = new AbortController();
    const subscription = client.subscribe(c.guid, { signal: controller.signal, retryDelay: 10, maxRetries: 2 });
    const error = await readUntil(subscription, controller, () => false, async (_event, list) => {
      if (list.length === 1) await s.server.close();
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'FUSION_ERR_CONNECTION' });
    await s.close();
  });
});
