import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Case } from '../../../src/concept/index.js';
import { createLogger } from '../../../src/helper/logging.js';
import { FusionAuthAPI } from '../../../src/server/auth/impl.js';
import { parseConfig } from '../../../src/server/config.js';
import { FusionEventAPI } from '../../../src/server/event/impl.js';
import type { EventSink, StoredEvent } from '../../../src/server/event/event-sink.js';
import { PRUNE_LOCK_KEY } from '../../../src/server/event/prune-task.js';
import { FusionServer } from '../../../src/server/server.js';
import type { KnexStorage } from '../../../src/server/storage/knex-storage.js';
import { freshStorage } from '../../helpers/storage.js';
import { SseProbe, silenceAudit } from './helpers.js';

const API_KEY = 'k'.repeat(32);

/** A sink that records what it saw, or fails when told to. */
class RecordingSink implements EventSink {
  readonly enqueued: StoredEvent[] = [];
  readonly committed: string[] = [];
  fail = false;

  async enqueue(trx: Parameters<EventSink['enqueue']>[0], stored: StoredEvent): Promise<void> {
    if (this.fail) throw new Error('sink refused');
    await trx.raw('SELECT 1'); // uses the event's transaction
    this.enqueued.push(stored);
  }

  afterCommit(stored: StoredEvent): void {
    this.committed.push(stored.id);
  }
}

describe('FusionEventAPI.notify and the server lifecycle', () => {
  silenceAudit();
  let storage: KnexStorage;
  let server: FusionServer;
  let events: FusionEventAPI;
  let baseUrl: string;
  const sink = new RecordingSink();
  const lines: Record<string, unknown>[] = [];

  beforeAll(async () => {
    storage = await freshStorage('pglite');
    const logger = createLogger({
      level: 'warn',
      stream: new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
          done();
        },
      }),
    });
    const config = parseConfig({
      server: { log_requests: false, docs: false },
      auth: { backend: { strategy: 'basic', basic: { users: [] } }, clients: [{ name: 'svc', key: API_KEY }] },
      event: { source: 'notifier' },
    });
    events = new FusionEventAPI({ webhooks: false, sinks: [sink] });
    server = new FusionServer({ config, storage, logger, apis: [new FusionAuthAPI(), events] });
    baseUrl = await server.listen({ host: '127.0.0.1', port: 0 });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await storage?.close();
  });

  it('refuses to notify before start, and bad arguments at once', async () => {
    const idle = new FusionEventAPI({ webhooks: false });
    await expect(idle.notify('x', new Case({ name: 'c' }))).rejects.toMatchObject({ code: 'FUSION_ERR_UNAVAILABLE' });
    await expect(events.notify('', new Case({ name: 'c' }))).rejects.toThrow('category must be a non-empty string');
    await expect(events.notify('x', { guid: 'nope' } as unknown as Case)).rejects.toThrow('caseObj must be a Case');
    expect(() => new FusionEventAPI({ eventClass: Case as never })).toThrow('eventClass must be Event or a subclass');
    expect(() => new FusionEventAPI({ sinks: [{}] as never })).toThrow('options.sinks must be a list of EventSink');
  });

  it('stores the event and gives it to the sinks in one transaction, then signals it', async () => {
    const c = new Case({ name: 'stored', acs: ['soc'] });
    const stored = await events.notify('created', c, { a: 1 });
    expect(stored.event.toJSON()).toMatchObject({ source: 'notifier', category: 'created', ext: { a: 1 } });
    expect(stored.createdAt).toBeInstanceOf(Date);
    expect(sink.enqueued.map((s) => s.id)).toContain(stored.id);
    expect(sink.committed).toContain(stored.id);
    const row = await storage.knex('fusion_event').where({ id: stored.id }).first<{ case_guid: string; category: string; document: unknown }>();
    expect(row).toMatchObject({ case_guid: c.guid, category: 'created' });
    expect(row!.document).toEqual(stored.event.toJSON());
    expect(server.eventNotifier).toBe(events);
  });

  it('rolls the whole notify back when a sink fails: no row, nothing signalled', async () => {
    const c = new Case({ name: 'refused' });
    const before = await storage.knex('fusion_event').count<{ count: string | number }[]>('* as count');
    sink.fail = true;
    try {
      await expect(events.notify('refused', c, null)).rejects.toThrow('sink refused');
    } finally {
      sink.fail = false;
    }
    const after = await storage.knex('fusion_event').count<{ count: string | number }[]>('* as count');
    expect(Number(after[0]!.count)).toBe(Number(before[0]!.count));
  });

  it('joins a transaction of the caller: the event commits, or rolls back, with its writes', async () => {
    const c = new Case({ name: 'in trx' });
    await expect(
      storage.knex.transaction(async (trx) => {
        await events.notify('inside', c, null, { trx });
        throw new Error('caller gave up');
      }),
    ).rejects.toThrow('caller gave up');
    expect(await storage.knex('fusion_event').where({ case_guid: c.guid })).toEqual([]);
    expect(sink.committed).not.toContain(sink.enqueued.at(-1)!.id); // rolled back: never "committed"
    const kept = await storage.knex.transaction((trx) => events.notify('inside', c, null, { trx }));
    expect(await storage.knex('fusion_event').where({ id: kept.id }).first()).toBeDefined();
    await new Promise((resolve) => setImmediate(resolve));
    expect(sink.committed).toContain(kept.id);
  });

  it('skips a prune turn while another instance holds the prune lock', async () => {
    const skipped = await storage.withAdvisoryLock(PRUNE_LOCK_KEY, () => events.prune());
    expect(skipped).toEqual({ skipped: true, events: 0, departures: 0 });
    expect((await events.prune()).skipped).toBe(false);
  });

  it('logs nothing at warn or above when subscribers come and go (abrupt disconnects included)', async () => {
    const c = await server.storage.createCase(new Case({ name: 'quiet', acs: [] }));
    for (let i = 0; i < 5; i++) {
      const probe = await SseProbe.open(baseUrl, `/api/events/case/${c.guid}`, { 'x-fusion-api-token': API_KEY });
      await probe.waitForCount(1);
      await events.notify('ping', c, { i });
      await probe.waitForCount(2);
      await probe.close();
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(lines.filter((line) => Number(line.level) >= 40)).toEqual([]);
  });
});
