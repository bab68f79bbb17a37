/** A case change and its event commit together (one transaction) when an event API is mounted. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { Case } from '../../../src/concept/index.js';
import { FusionCaseAPI } from '../../../src/server/case/index.js';
import type { CaseEventCategory } from '../../../src/server/case/index.js';
import type { EventSink, StoredEvent } from '../../../src/server/event/event-sink.js';
import type { FusionStorage } from '../../../src/server/storage/storage.js';
import { describeStorage } from '../../helpers/storage.js';
import { SseProbe, serviceHeaders, startEventServer, until } from '../event/helpers.js';
import type { EventServer, ProbeEvent } from '../event/helpers.js';
import { raw, silenceAudit, snapshot, tag } from './helpers.js';

const TIMEOUT = 60_000;

/** A sink that fails while `fail` is set and records what committed. */
class FlakySink implements EventSink {
  readonly committed: StoredEvent[] = [];
  fail = false;

  async enqueue(trx: Parameters<EventSink['enqueue']>[0], stored: StoredEvent): Promise<void> {
    await trx.raw('SELECT 1');
    if (this.fail) throw new Error(`sink refused event ${stored.id}`);
  }

  afterCommit(stored: StoredEvent): void {
    this.committed.push(stored);
  }
}

/** Categories of the stored case-change events of `guid`, oldest first (presence events left out). */
async function eventLog(storage: FusionStorage, guid: string): Promise<string[]> {
  const rows = await storage.knex('fusion_event').where({ case_guid: guid }).orderBy('id').select('category');
  return rows.map((row: { category: string }) => row.category).filter(isCaseChange);
}

function isCaseChange(category: string): boolean {
  return category.endsWith('_case');
}

/** Runs `fn` with the sink failing. */
async function failing<T>(sink: FlakySink, fn: () => Promise<T>): Promise<T> {
  sink.fail = true;
  try {
    return await fn();
  } finally {
    sink.fail = false;
  }
}

/** Overrides the old way: a hook on `ctx.server.storage`, onCaseEvent calling super without options. */
class LegacyCaseAPI extends FusionCaseAPI {
  readonly seen: CaseEventCategory[] = [];

  constructor() {
    super({ hooks: { createCase: (ctx) => ctx.server.storage.createCase(ctx.case) } });
  }

  protected override async onCaseEvent(category: CaseEventCategory, c: Case): Promise<void> {
    this.seen.push(category);
    await super.onCaseEvent(category, c);
  }
}

describeStorage('FusionCaseAPI with an event API: change and event in one transaction', (getStorage) => {
  silenceAudit();
  const sink = new FlakySink();
  let t: EventServer;

  beforeAll(async () => {
    t = await startEventServer(getStorage(), { api: { sinks: [sink] } });
  }, TIMEOUT);
  afterAll(async () => {
    await t?.close();
  });

  it(
    'create, update, delete and attach each store one event, seen by SSE and the sinks after commit',
    async () => {
      const cases = t.clients.service.case;
      // created by a user: unmanaged, so the service may attach it
      const created = await t.clients.user.case.createCase({ name: `atomic ${tag()}`, acs: ['soc'] });
      const probe = await SseProbe.open(t.baseUrl, `/api/events/case/${created.guid}?last_event_id=0`, serviceHeaders(t));
      try {
        await cases.updateCase(created.guid, { description: 'edited' });
        const seen = (): ProbeEvent[] => probe.events.filter((e) => isCaseChange(e.category));
        await probe.waitFor(() => seen().length >= 2);
        expect(seen().map((e) => e.category)).toEqual(['create_case', 'update_case']);
        expect(seen()[1]!.case).toMatchObject({ guid: created.guid, description: 'edited' });
      } finally {
        await probe.close();
      }
      expect((await t.server.storage.retrieveCase(t.server.caseClass, created.guid))?.description).toBe('edited');
      const next = randomUUID();
      const attached = await cases.attachCase(created.guid, next);
      expect(attached.guid).toBe(next);
      await cases.deleteCase(next);
      expect(await t.server.storage.retrieveCase(t.server.caseClass, next)).toBeNull();
      expect(await eventLog(t.server.storage, created.guid)).toEqual(['create_case', 'update_case']);
      expect(await eventLog(t.server.storage, next)).toEqual(['attach_case', 'delete_case']);
      await until(() => sink.committed.filter((s) => isCaseChange(s.event.category) && [created.guid, next].includes(s.event.case.guid)).length === 4, 10_000, 'afterCommit of 4 events');
    },
    TIMEOUT,
  );

  it(
    'a failing event write rolls the create back: an error, no case, no event',
    async () => {
      const name = `refused ${tag()}`;
      const guid = randomUUID();
      const before = await snapshot(t.server.storage);
      const answer = await failing(sink, () =>
        raw(t.baseUrl, 'POST', '/api/case', { headers: serviceHeaders(t), json: { guid, name, acs: ['soc'] } }),
      );
      expect(answer.status).toBe(500);
      expect(answer.body).toMatchObject({ status: 500 });
      expect(await snapshot(t.server.storage)).toEqual(before);
      expect(await eventLog(t.server.storage, guid)).toEqual([]);
      expect(sink.committed.some((s) => s.event.case.guid === guid)).toBe(false);
    },
    TIMEOUT,
  );

  it(
    'a failing event write rolls update, delete and attach back: the case stays as it was',
    async () => {
      const cases = t.clients.service.case;
      const c = await t.clients.user.case.createCase({ name: `kept ${tag()}`, acs: ['soc'] });
      const before = await snapshot(t.server.storage);
      await failing(sink, async () => {
        await expect(cases.updateCase(c.guid, { description: 'lost' })).rejects.toMatchObject({ status: 500 });
        await expect(cases.deleteCase(c.guid)).rejects.toMatchObject({ status: 500 });
        await expect(cases.attachCase(c.guid, randomUUID())).rejects.toMatchObject({ status: 500 });
      });
      expect(await snapshot(t.server.storage)).toEqual(before);
      expect(await eventLog(t.server.storage, c.guid)).toEqual(['create_case']);
      // The per-case lock was released: the next update goes through.
      expect((await cases.updateCase(c.guid, { description: 'later' })).description).toBe('later');
      expect(await eventLog(t.server.storage, c.guid)).toEqual(['create_case', 'update_case']);
    },
    TIMEOUT,
  );

  it(
    'concurrent changes do not deadlock (one PGlite connection) and each emits its event',
    async () => {
      const cases = t.clients.service.case;
      const c = await cases.createCase({ name: `busy ${tag()}`, acs: ['soc'] });
      const results = await Promise.all([
        ...Array.from({ length: 5 }, (_, i) => cases.updateCase(c.guid, { description: `edit ${i}` })),
        ...Array.from({ length: 5 }, () => cases.createCase({ name: `busy ${tag()}`, acs: ['soc'] })),
      ]);
      expect(results).toHaveLength(10);
      expect(await eventLog(t.server.storage, c.guid)).toEqual(['create_case', ...Array(5).fill('update_case')]);
    },
    TIMEOUT,
  );
});

describeStorage('FusionCaseAPI overrides on server.storage with an event API', (getStorage) => {
  silenceAudit();
  const sink = new FlakySink();
  let t: EventServer;
  let api: LegacyCaseAPI;

  beforeAll(async () => {
    api = new LegacyCaseAPI();
    t = await startEventServer(getStorage(), { api: { sinks: [sink] }, server: { apis: [api] } });
  }, TIMEOUT);
  afterAll(async () => {
    await t?.close();
  });

  it(
    'join the transaction: stored with their event, or not at all',
    async () => {
      const cases = t.clients.service.case;
      const c = await cases.createCase({ name: `legacy ${tag()}`, acs: ['soc'] });
      expect(await eventLog(t.server.storage, c.guid)).toEqual(['create_case']);
      const guid = randomUUID();
      await failing(sink, () => expect(cases.createCase({ guid, name: `legacy ${tag()}`, acs: ['soc'] })).rejects.toMatchObject({ status: 500 }));
      expect(await t.server.storage.retrieveCase(t.server.caseClass, guid)).toBeNull();
      expect(api.seen).toEqual(['create_case', 'create_case']);
    },
    TIMEOUT,
  );
});
