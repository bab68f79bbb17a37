/**
 * A request never holds a pool connection while it waits for another (which, with N requests
 * in parallel and a pool of N, would deadlock until the acquire timeout). PostgreSQL with a
 * pool of ONE connection: updates of one case (per-case lock + transaction + event + webhook
 * rows) and of many cases, creates and reads, all in parallel, all answered. The pool's own
 * events are recorded to show it was contended (requests queued for the one connection).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Case } from '../../../src/concept/index.js';
import type { KnexStorage } from '../../../src/server/storage/knex-storage.js';
import { openStorage } from '../../../src/server/storage/open-storage.js';
import type { TestServer } from '../../../src/testing/index.js';
import { silenceAudit, startCaseServer, tag } from '../case/helpers.js';
import { TEST_PG_URL, pgUnavailableReason, randomSchemaName } from '../../helpers/storage.js';

interface TarnPool {
  on(event: 'acquireRequest' | 'acquireSuccess' | 'acquireFail' | 'release', listener: () => void): void;
  numPendingAcquires(): number;
  numUsed(): number;
}

const reason = pgUnavailableReason();
const describePg = reason === null ? describe : describe.skip;
if (reason !== null) console.warn(`pool starvation [postgres] skipped: ${reason}`);

describePg('a pool of one PostgreSQL connection under parallel case writes', () => {
  silenceAudit();
  const schema = randomSchemaName();
  let storage: KnexStorage;
  let t: TestServer;
  const seen = { requests: 0, successes: 0, failures: 0, releases: 0, maxPending: 0, maxUsed: 0 };

  beforeAll(async () => {
    storage = await openStorage(TEST_PG_URL, { schema, poolMax: 1 });
    await storage.migrate();
    const pool = (storage.knex.client as { pool: TarnPool }).pool;
    pool.on('acquireRequest', () => {
      seen.requests += 1;
      queueMicrotask(() => (seen.maxPending = Math.max(seen.maxPending, pool.numPendingAcquires())));
    });
    pool.on('acquireSuccess', () => {
      seen.successes += 1;
      seen.maxUsed = Math.max(seen.maxUsed, pool.numUsed());
    });
    pool.on('acquireFail', () => (seen.failures += 1));
    pool.on('release', () => (seen.releases += 1));
    // The event API with a webhook: every change also writes an event row and delivery rows.
    t = await startCaseServer(storage, { config: { event: { webhook: 'https://hooks.internal.test/h', webhook_allow: ['hooks.internal.test'] } } });
  }, 60_000);

  afterAll(async () => {
    await t?.close();
    try {
      await storage?.knex.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [schema]);
    } finally {
      await storage?.close();
    }
  });

  it('answers 60 parallel updates of one case and 60 of others, with creates and reads', async () => {
    const alice = t.clients.user;
    const one = await alice.case.createCase({ name: `contended ${tag()}`, acs: ['soc'] });
    const others = await Promise.all(Array.from({ length: 20 }, (_, i) => alice.case.createCase({ name: `other ${i} ${tag()}`, acs: ['soc'] })));
    const work: Promise<unknown>[] = [
      ...Array.from({ length: 60 }, (_, i) => alice.case.updateCase(one.guid, { description: `edit ${i}` })),
      ...Array.from({ length: 60 }, (_, i) => alice.case.updateCase(others[i % others.length]!.guid, { description: `edit ${i}` })),
      ...Array.from({ length: 20 }, (_, i) => alice.case.createCase({ name: `new ${i} ${tag()}`, acs: ['soc'] })),
      ...Array.from({ length: 20 }, () => alice.case.retrieveCase(one.guid)),
      ...Array.from({ length: 5 }, () => alice.case.enumerateCases()),
    ];
    const results = await Promise.allSettled(work);
    expect(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
    const final = (await alice.case.retrieveCase(one.guid)) as Case;
    expect(final.description).toMatch(/^edit \d+$/);
    // The one connection was contended, never handed out twice, and no acquire failed (timed out).
    expect(seen.maxPending).toBeGreaterThan(1);
    expect(seen.maxUsed).toBe(1);
    expect(seen.successes).toBeGreaterThan(300);
    expect(seen.failures).toBe(0);
  }, 120_000);
});
