import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Case } from '../../../src/concept/index.js';
import type { KnexStorage } from '../../../src/server/storage/knex-storage.js';
import { freshStorage } from '../../helpers/storage.js';
import { SseProbe, createSocCase, serviceHeaders, silenceAudit, startEventServer, until, userHeaders } from './helpers.js';
import type { EventServer } from './helpers.js';

const path = (guid: string): string => `/api/events/case/${guid}`;

describe('GET /api/events/case/:case_guid (SSE, one instance)', () => {
  silenceAudit();
  let storage: KnexStorage;
  let t: EventServer;
  let alice: Record<string, string>;

  beforeAll(async () => {
    storage = await freshStorage('pglite');
    t = await startEventServer(storage);
    alice = await userHeaders(t, 'alice');
  }, 60_000);

  afterAll(async () => {
    await t?.close();
    await storage?.close();
  });

  it('sends the SSE headers, `subscribers` first, then events in order with ids and the Event JSON', async () => {
    const c = await createSocCase(t, 'order');
    const probe = await SseProbe.open(t.baseUrl, path(c.guid), alice);
    try {
      const [first] = await probe.waitForCount(1);
      expect(first).toMatchObject({ category: 'subscribers', source: 'test', ext: { usernames: ['alice'] } });
      expect(first!.id).toMatch(/^\d+$/); // where this stream starts in the log
      expect(first!.case.guid).toBe(c.guid);
      for (let n = 0; n < 5; n++) await t.events.notify('step', c, { n });
      const events = (await probe.waitForCount(6)).slice(1);
      expect(events.map((e) => e.ext)).toEqual([0, 1, 2, 3, 4].map((n) => ({ n })));
      expect(events.every((e) => e.category === 'step' && e.case.guid === c.guid && e.source === 'test')).toBe(true);
      const ids = [first!, ...events].map((e) => BigInt(e.id!));
      for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!).toBe(true);
    } finally {
      await probe.close();
    }
  });

  it('answers text/event-stream, no-cache, X-Accel-Buffering: no, and one data line per message (edf_fusion reads `data: `)', async () => {
    const c = await createSocCase(t, 'headers');
    const { Client } = await import('undici');
    const client = new Client(t.baseUrl);
    try {
      const response = await client.request({ method: 'GET', path: path(c.guid), headers: alice });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toMatch(/^text\/event-stream/);
      expect(response.headers['cache-control']).toMatch(/no-cache/);
      expect(response.headers['x-accel-buffering']).toBe('no');
      response.body.setEncoding('utf8');
      let text = '';
      for await (const chunk of response.body) {
        text += chunk as string;
        if (text.includes('\n\n')) break;
      }
      const lines = text.split('\n').filter((line) => line.startsWith('data: '));
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0]!.slice('data: '.length))).toMatchObject({ category: 'subscribers' });
    } finally {
      await client.destroy();
    }
  });

  it('delivers only the events of its case', async () => {
    const mine = await createSocCase(t, 'mine');
    const other = await createSocCase(t, 'other');
    const probe = await SseProbe.open(t.baseUrl, path(mine.guid), alice);
    try {
      await probe.waitForCount(1);
      await t.events.notify('noise', other, null);
      await t.events.notify('signal', mine, null);
      const events = await probe.waitForCount(2);
      expect(events.map((e) => e.category)).toEqual(['subscribers', 'signal']);
    } finally {
      await probe.close();
    }
  });

  it('resumes after a connection killed mid-stream: nothing lost, nothing repeated (Last-Event-ID header)', async () => {
    const c = await createSocCase(t, 'resume');
    const total = 60;
    const first = await SseProbe.open(t.baseUrl, path(c.guid), alice);
    await first.waitForCount(1);
    const producer = (async () => {
      for (let n = 0; n < total; n++) {
        await t.events.notify('tick', c, { n });
        if (n % 10 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    await first.waitForCount(11); // subscribers + 10 ticks, while the producer goes on
    await first.close();
    const seen = first.events.filter((e) => e.category === 'tick');
    const lastId = seen.at(-1)!.id!;
    const second = await SseProbe.open(t.baseUrl, path(c.guid), { ...alice, 'last-event-id': lastId });
    try {
      await producer;
      const events = await second.waitFor((list) => list.filter((e) => e.category === 'tick').length >= total - seen.length);
      const ticks = [...seen, ...events.filter((e) => e.category === 'tick')].map((e) => (e.ext as { n: number }).n);
      expect(ticks).toEqual([...Array(total).keys()]);
      await t.events.notify('tick', c, { n: total }); // then live ones
      const after = await second.waitFor((list) => list.some((e) => (e.ext as { n?: number } | null)?.n === total));
      expect(after.filter((e) => e.category === 'tick').length).toBe(total - seen.length + 1);
    } finally {
      await second.close();
    }
  });

  it('gives `subscribers` the starting position as id: a client cut before any event resumes from there', async () => {
    const c = await createSocCase(t, 'cut early');
    const first = await SseProbe.open(t.baseUrl, path(c.guid), alice);
    const [subscribers] = await first.waitForCount(1);
    await first.close();
    await t.events.notify('meanwhile', c, null);
    const second = await SseProbe.open(t.baseUrl, path(c.guid), { ...alice, 'last-event-id': subscribers!.id! });
    try {
      const events = await second.waitFor((list) => list.some((e) => e.category === 'meanwhile'));
      expect(events[0]!.category).toBe('subscribers');
      expect(events.filter((e) => e.category === 'meanwhile')).toHaveLength(1);
    } finally {
      await second.close();
    }
  });

  it('takes the resume point from the last_event_id query parameter too, and replays presence events of the window', async () => {
    const c = await createSocCase(t, 'query');
    const a = await t.events.notify('one', c, null);
    await t.events.notify('two', c, null);
    const probe = await SseProbe.open(t.baseUrl, `${path(c.guid)}?last_event_id=${a.id}`, alice);
    try {
      const events = await probe.waitFor((list) => list.some((e) => e.category === 'two'));
      expect(events.map((e) => e.category)).toEqual(['subscribers', 'two', 'subscribe']);
    } finally {
      await probe.close();
    }
  });

  it('sends an explicit `reset` when the id is older than the retention (pruned) or unknown, then live events', async () => {
    const own = await freshStorage('pglite'); // pruning everything must not disturb the other tests
    const pruned = await startEventServer(own, { config: { event: { retention: 0.001 } } });
    try {
      const c = await createSocCase(pruned, 'reset');
      const old = await pruned.events.notify('old', c, null);
      await new Promise((resolve) => setTimeout(resolve, 20));
      const result = await pruned.events.prune();
      expect(result.skipped).toBe(false);
      expect(result.events).toBeGreaterThan(0);
      const headers = await userHeaders(pruned, 'alice');
      const probe = await SseProbe.open(pruned.baseUrl, path(c.guid), { ...headers, 'last-event-id': String(BigInt(old.id) - 1n) });
      try {
        const [, reset] = await probe.waitForCount(2);
        expect(reset).toMatchObject({ category: 'reset', ext: { reason: 'retention', last_event_id: String(BigInt(old.id) - 1n) } });
        expect(BigInt(reset!.id!) >= BigInt(old.id)).toBe(true);
        await pruned.events.notify('fresh', c, null);
        const events = await probe.waitForCount(3);
        expect(events.map((e) => e.category)).toEqual(['subscribers', 'reset', 'fresh']);
      } finally {
        await probe.close();
      }
      const future = await SseProbe.open(pruned.baseUrl, path(c.guid), { ...headers, 'last-event-id': '999999999999' });
      try {
        const [, reset] = await future.waitForCount(2);
        expect(reset).toMatchObject({ category: 'reset', ext: { reason: 'unknown_id' } });
      } finally {
        await future.close();
      }
    } finally {
      await pruned.close();
      await own.close();
    }
  });

  it('refuses bad input before the stream starts, with a clear 4xx, and keeps serving', async () => {
    const c = await createSocCase(t, 'bad input');
    const eve = await userHeaders(t, 'eve');
    const attempts: [string, Record<string, string>, number, string][] = [
      [path('not-a-guid'), alice, 400, 'FUSION_ERR_BAD_GUID'],
      [path(randomUUID()), alice, 404, 'FUSION_ERR_CASE_NOT_FOUND'],
      [path(c.guid), eve, 403, 'FUSION_ERR_FORBIDDEN'],
      [path(c.guid), {}, 401, 'FUSION_ERR_UNAUTHORIZED'],
      [path(c.guid), { ...alice, 'last-event-id': 'banana' }, 400, 'FUSION_ERR_BAD_REQUEST'],
      [path(c.guid), { ...alice, 'last-event-id': '-5' }, 400, 'FUSION_ERR_BAD_REQUEST'],
      [path(c.guid), { ...alice, 'last-event-id': '99999999999999999999' }, 400, 'FUSION_ERR_BAD_REQUEST'],
      [`${path(c.guid)}?last_event_id=1e3`, alice, 400, 'FUSION_ERR_BAD_REQUEST'],
    ];
    for (const [url, headers, status, code] of attempts) {
      const failure = (await SseProbe.open(t.baseUrl, url, headers).then(
        async (probe) => {
          await probe.close();
          return null;
        },
        (error: unknown) => error,
      )) as { status: number; body: { code: string; message: string } } | null;
      expect({ url, status: failure?.status, code: failure?.body.code }).toEqual({ url, status, code });
      expect(failure!.body.message.length).toBeGreaterThan(10);
    }
    expect(await t.events.subscribers(c.guid)).toEqual([]); // no presence left behind
    expect(t.events.streamCount).toBe(0);
    const probe = await SseProbe.open(t.baseUrl, path(c.guid), alice);
    await probe.waitForCount(1);
    await probe.close();
  });

  it('sends keep-alive comments on an idle stream', async () => {
    const quick = await startEventServer(storage, { config: { event: { keepalive: 0.05 } } });
    try {
      const c = await createSocCase(quick, 'keepalive');
      const probe = await SseProbe.open(quick.baseUrl, path(c.guid), serviceHeaders(quick));
      try {
        await until(() => probe.comments.length >= 2, 10_000, 'two pings');
        expect(probe.comments[0]).toBe(': ping');
        expect(probe.events).toHaveLength(1); // comments are not messages
      } finally {
        await probe.close();
      }
    } finally {
      await quick.close();
    }
  });

  it('emits create_case, update_case, attach_case and delete_case from the case API', async () => {
    const seen: { category: string; guid: string }[] = [];
    const sink = {
      enqueue: async (_trx: unknown, stored: { event: { category: string; case: Case } }) => {
        seen.push({ category: stored.event.category, guid: stored.event.case.guid });
      },
    };
    const s = await startEventServer(storage, { api: { sinks: [sink] } });
    try {
      const c = await s.clients.user.case.createCase({ name: 'lifecycle', acs: ['soc'] }); // a user's case: attachable
      const probe = await SseProbe.open(s.baseUrl, path(c.guid), serviceHeaders(s));
      await probe.waitForCount(1);
      await s.clients.service.case.updateCase(c.guid, { description: 'changed' });
      await probe.waitFor((events) => events.some((e) => e.category === 'update_case'));
      expect(probe.events.at(-1)!.case.description).toBe('changed');
      const next = randomUUID();
      await s.clients.service.case.attachCase(c.guid, next);
      await probe.close();
      const attached = await SseProbe.open(s.baseUrl, `${path(next)}?last_event_id=0`, serviceHeaders(s));
      try {
        await s.clients.service.case.deleteCase(next);
        const events = await attached.waitFor((list) => list.some((e) => e.category === 'delete_case'));
        // the replay holds the attach, then this subscriber's own `subscribe`, then the live delete
        expect(events.map((e) => e.category)).toEqual(['subscribers', 'attach_case', 'subscribe', 'delete_case']);
      } finally {
        await attached.close();
      }
      const caseEvents = seen.filter((e) => e.category.endsWith('_case'));
      expect(caseEvents.map((e) => e.category)).toEqual(['create_case', 'update_case', 'attach_case', 'delete_case']);
      expect(caseEvents.map((e) => e.guid)).toEqual([c.guid, c.guid, next, next]);
    } finally {
      await s.close();
    }
  });

  it('stops streaming to a user an update takes access from', async () => {
    const c = await createSocCase(t, 'revoked');
    const probe = await SseProbe.open(t.baseUrl, path(c.guid), alice);
    await probe.waitForCount(1);
    await t.clients.service.case.updateCase(c.guid, { acs: ['admins'] });
    expect(await probe.ended).toBe('end');
    expect(probe.events.map((e) => e.category)).toEqual(['subscribers']);
    await probe.close();
  });

  it('disconnects a subscriber too far behind without slowing the others', async () => {
    const small = await startEventServer(storage, { config: { event: { max_buffered_events: 8 } } });
    const { connect } = await import('node:net');
    try {
      const c = await createSocCase(small, 'slow');
      const fast = await SseProbe.open(small.baseUrl, path(c.guid), serviceHeaders(small));
      await fast.waitForCount(1);
      const url = new URL(small.baseUrl);
      const slow = connect(Number(url.port), url.hostname);
      slow.on('error', () => undefined);
      slow.write(`GET ${path(c.guid)} HTTP/1.1\r\nHost: ${url.host}\r\nX-Fusion-API-Token: ${small.apiKey}\r\n\r\n`);
      slow.pause(); // never reads: the server's buffers fill up
      await until(() => small.events.streamCount === 2, 10_000, 'the slow stream open');
      const big = 'x'.repeat(128 * 1024);
      const count = 150;
      for (let n = 0; n < count; n++) {
        await small.events.notify('big', c, { n, big });
        await fast.waitForCount(n + 2); // a reader that keeps up (this test shares one event loop with the server)
      }
      await until(() => small.events.streamCount === 1, 10_000, 'the slow stream cut by the server');
      const events = fast.events;
      expect(events.filter((e) => e.category === 'big').map((e) => (e.ext as { n: number }).n)).toEqual([...Array(count).keys()]);
      await fast.close();
      slow.destroy();
    } finally {
      await small.close();
    }
  }, 60_000);

  it('server.close() ends open streams cleanly (their responses end) and returns', async () => {
    const s = await startEventServer(storage);
    const c = await createSocCase(s, 'closing');
    const probes = await Promise.all([1, 2, 3].map(() => SseProbe.open(s.baseUrl, path(c.guid), serviceHeaders(s))));
    await Promise.all(probes.map((probe) => probe.waitForCount(1)));
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      s.close().then(() => 'closed'),
      new Promise((resolve) => {
        timer = setTimeout(() => resolve('still open after 10 s'), 10_000);
      }),
    ]);
    clearTimeout(timer);
    expect(outcome).toBe('closed');
    expect(await Promise.all(probes.map((probe) => probe.ended))).toEqual(['end', 'end', 'end']);
    await Promise.all(probes.map((probe) => probe.close()));
  });
});
