import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventChannelName } from '../../../src/server/event/event-bus.js';
import type { KnexStorage } from '../../../src/server/storage/knex-storage.js';
import { openStorage } from '../../../src/server/storage/open-storage.js';
import { TEST_PG_URL, freshStorage, isCi, pgUnavailableReason } from '../../helpers/storage.js';
import { SseProbe, createSocCase, serviceHeaders, silenceAudit, startEventServer, until, userHeaders } from './helpers.js';
import type { EventServer, ProbeEvent } from './helpers.js';

const reason = pgUnavailableReason();
if (reason !== null && !isCi()) console.warn(`event multi-instance tests skipped: ${reason}`);
const describePg = reason === null || isCi() ? describe : describe.skip;

const path = (guid: string): string => `/api/events/case/${guid}`;
const listen = { minDelayMs: 20, maxDelayMs: 200 };

function presenceOf(events: ProbeEvent[]): string[] {
  return events.filter((e) => e.category === 'subscribe' || e.category === 'unsubscribe').map((e) => `${e.category}:${String(e.ext?.username)}`);
}

describePg('two instances on one PostgreSQL schema', () => {
  silenceAudit();
  let storageA: KnexStorage;
  let storageB: KnexStorage;
  let a: EventServer;
  let b: EventServer;

  beforeAll(async () => {
    storageA = await freshStorage('postgres');
    storageB = await openStorage(TEST_PG_URL, { schema: storageA.schema! });
    a = await startEventServer(storageA, { api: { listen } });
    b = await startEventServer(storageB, { api: { listen } });
  }, 60_000);

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await storageB?.close();
    await storageA?.close();
  });

  it('delivers an event notified on A to subscribers on A and on B, each exactly once and in order', async () => {
    const c = await createSocCase(a, 'fan-out');
    const onA = await SseProbe.open(a.baseUrl, path(c.guid), serviceHeaders(a));
    const onB = await SseProbe.open(b.baseUrl, path(c.guid), serviceHeaders(b));
    try {
      await Promise.all([onA.waitForCount(1), onB.waitForCount(1)]);
      await Promise.all(Array.from({ length: 20 }, (_, n) => a.events.notify('burst', c, { n })));
      await b.events.notify('last', c, null);
      for (const probe of [onA, onB]) {
        const events = await probe.waitFor((list) => list.some((e) => e.category === 'last'));
        const burst = events.filter((e) => e.category === 'burst');
        expect(burst).toHaveLength(20);
        expect(new Set(burst.map((e) => (e.ext as { n: number }).n)).size).toBe(20);
        const ids = burst.map((e) => BigInt(e.id!));
        expect(ids).toEqual([...ids].sort((x, y) => (x < y ? -1 : 1)));
      }
      expect(onA.events.filter((e) => e.category === 'burst').map((e) => e.id)).toEqual(onB.events.filter((e) => e.category === 'burst').map((e) => e.id));
      await new Promise((resolve) => setTimeout(resolve, 100)); // time for a duplicate to show up
      expect(onB.events.filter((e) => e.category !== 'subscribers')).toHaveLength(21);
    } finally {
      await onA.close();
      await onB.close();
    }
  });

  it('lists the subscribers of every instance and emits subscribe/unsubscribe when a user joins or leaves anywhere', async () => {
    const c = await createSocCase(a, 'presence');
    const aliceA = await SseProbe.open(a.baseUrl, path(c.guid), await userHeaders(a, 'alice'));
    expect((await aliceA.waitForCount(1))[0]!.ext).toEqual({ usernames: ['alice'] });
    const bobB = await SseProbe.open(b.baseUrl, path(c.guid), await userHeaders(b, 'bob'));
    expect((await bobB.waitForCount(1))[0]!.ext).toEqual({ usernames: ['alice', 'bob'] });
    await aliceA.waitFor((events) => presenceOf(events).includes('subscribe:bob'));
    expect(await a.events.subscribers(c.guid)).toEqual(['alice', 'bob']);

    // alice opens a second stream, on B: she was subscribed already, so no new `subscribe`.
    const aliceB = await SseProbe.open(b.baseUrl, path(c.guid), await userHeaders(b, 'alice'));
    await aliceB.waitForCount(1);
    await a.events.notify('marker', c, { n: 1 });
    await bobB.waitFor((events) => events.some((e) => e.category === 'marker'));
    expect(presenceOf(bobB.events)).toEqual([]);

    // alice leaves A but stays on B: no `unsubscribe`.
    const rowsOfAlice = async (): Promise<number> => Number((await storageA.knex('fusion_event_presence').where({ case_guid: c.guid, username: 'alice' }).count<{ count: string }[]>('* as count'))[0]!.count);
    await aliceA.close();
    await until(async () => (await rowsOfAlice()) === 1, 10_000, "alice's row on A gone");
    await a.events.notify('marker', c, { n: 2 });
    await bobB.waitFor((events) => events.filter((e) => e.category === 'marker').length === 2);
    expect(presenceOf(bobB.events)).toEqual([]);

    // her last stream ends: bob sees her leave.
    await aliceB.close();
    await bobB.waitFor((events) => presenceOf(events).includes('unsubscribe:alice'));
    expect(presenceOf(bobB.events)).toEqual(['unsubscribe:alice']);
    expect(await b.events.subscribers(c.guid)).toEqual(['bob']);
    await bobB.close();
    await until(async () => (await a.events.subscribers(c.guid)).length === 0, 10_000, 'nobody left');
  });

  it('drops the presence of an instance that stopped refreshing it (crash) and says so with `unsubscribe`', async () => {
    const c = await createSocCase(a, 'crashed instance');
    await storageA.knex('fusion_event_presence').insert({
      case_guid: c.guid,
      username: 'carol',
      instance_id: randomUUID(),
      expires_at: storageA.knex.raw(`now() - interval '1 second'`),
    });
    const probe = await SseProbe.open(b.baseUrl, path(c.guid), serviceHeaders(b));
    try {
      expect((await probe.waitForCount(1))[0]!.ext).toEqual({ usernames: ['service'] }); // expired rows are not listed
      const result = await a.events.prune();
      expect(result).toMatchObject({ skipped: false, departures: 1 });
      const events = await probe.waitFor((list) => presenceOf(list).includes('unsubscribe:carol'));
      expect(presenceOf(events)).toEqual(['unsubscribe:carol']);
    } finally {
      await probe.close();
    }
  });

  it('catches up after its LISTEN connection breaks: events sent meanwhile arrive once', async () => {
    const c = await createSocCase(a, 'reconnect');
    const probe = await SseProbe.open(b.baseUrl, path(c.guid), serviceHeaders(b));
    try {
      await probe.waitForCount(1);
      const channel = eventChannelName(storageA.schema);
      const killed = await storageA.knex.raw<{ rows: unknown[] }>(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ? AND datname = current_database()',
        [`fusion-listen:${channel}`],
      );
      expect(killed.rows.length).toBe(2); // A's and B's listeners
      for (let n = 0; n < 5; n++) await a.events.notify('while-down', c, { n });
      await probe.waitFor((events) => events.filter((e) => e.category === 'while-down').length === 5);
      await until(
        async () =>
          (await storageA.knex.raw<{ rows: unknown[] }>('SELECT 1 FROM pg_stat_activity WHERE application_name = ?', [`fusion-listen:${channel}`])).rows.length === 2,
        10_000,
        'both listeners back',
      );
      await a.events.notify('after', c, null);
      const events = await probe.waitFor((list) => list.some((e) => e.category === 'after'));
      expect(events.map((e) => e.category)).toEqual(['subscribers', ...Array(5).fill('while-down'), 'after']);
    } finally {
      await probe.close();
    }
  });
});
