import { randomUUID } from 'node:crypto';
import { expect, it } from '@jest/globals';
import { advisoryLockId } from '../../../src/server/storage/advisory-lock.js';
import { appendEvent, fetchCasePage, fetchEventsAfter, logPosition, pruneEvents } from '../../../src/server/event/event-log.js';
import type { KnexStorage } from '../../../src/server/storage/knex-storage.js';
import { describeStorage } from '../../helpers/storage.js';

async function append(storage: KnexStorage, caseGuid: string, n: number): Promise<bigint> {
  const lockId = advisoryLockId(storage.schema ?? '', 'fusion:event:append');
  const { id } = await storage.knex.transaction((trx) => appendEvent(trx, lockId, { caseGuid, category: 'test', document: JSON.stringify({ n }) }));
  return BigInt(id);
}

describeStorage('the event log (fusion_event)', (getStorage, kind) => {
  it('reads events after an id in id order, across digit boundaries (9 < 10 < 100)', async () => {
    const storage = getStorage();
    const guid = randomUUID();
    const start = (await logPosition(storage.knex)).maxId;
    const ids: bigint[] = [];
    for (let n = 0; n < 105; n++) ids.push(await append(storage, guid, n));
    const rows = await fetchEventsAfter(storage.knex, start, 1000);
    expect(rows.map((row) => row.id)).toEqual(ids);
    expect(rows.map((row) => (JSON.parse(row.document) as { n: number }).n)).toEqual([...Array(105).keys()]);
    expect(rows[0]).toMatchObject({ caseGuid: guid, category: 'test' });
    expect((await fetchEventsAfter(storage.knex, ids[49]!, 10)).map((row) => row.id)).toEqual(ids.slice(50, 60));
  });

  it('makes concurrent appends visible in id order (the append lock)', async () => {
    const storage = getStorage();
    const guid = randomUUID();
    const start = (await logPosition(storage.knex)).maxId;
    const ids = await Promise.all(Array.from({ length: 30 }, (_, n) => append(storage, guid, n)));
    const sorted = [...ids].sort((a, b) => (a < b ? -1 : 1));
    expect((await fetchEventsAfter(storage.knex, start, 100)).map((row) => row.id)).toEqual(sorted);
    expect((await logPosition(storage.knex)).maxId).toBe(sorted.at(-1));
  }, kind === 'postgres' ? 30_000 : 60_000);

  it('pages one case in the same snapshot as the log position', async () => {
    const storage = getStorage();
    const mine = randomUUID();
    const first = await append(storage, mine, 0);
    await append(storage, randomUUID(), 1);
    const third = await append(storage, mine, 2);
    const page = await fetchCasePage(storage.knex, mine, first - 1n, 10);
    expect(page.rows.map((row) => row.id)).toEqual([first, third]);
    expect(page.rows.every((row) => row.caseGuid === mine)).toBe(true);
    expect(page.maxId).toBe(third);
    const empty = await fetchCasePage(storage.knex, randomUUID(), 0n, 10);
    expect(empty.rows).toEqual([]);
    expect(empty.maxId).toBe(third);
  });

  it('prunes old events as a prefix of ids, raising the horizon first', async () => {
    const storage = getStorage();
    const guid = randomUUID();
    const old = await append(storage, guid, 0);
    await storage.knex('fusion_event').where('id', '<=', old.toString()).update({ created_at: storage.knex.raw(`now() - interval '2 hours'`) });
    const kept = await append(storage, guid, 1);
    const deleted = await pruneEvents(storage.knex, 3600, 2);
    expect(deleted).toBeGreaterThanOrEqual(1);
    const position = await logPosition(storage.knex);
    expect(position.prunedThrough).toBe(old);
    const page = await fetchCasePage(storage.knex, guid, 0n, 10);
    expect(page.rows.map((row) => row.id)).toEqual([kept]);
    expect(await pruneEvents(storage.knex, 3600)).toBe(0);
  });
});
