import { afterEach, expect, it } from '@jest/globals';
import {
  DELIVERY_TABLE,
  claimDue,
  deliveredSince,
  disableEndpoint,
  enableEndpoint,
  insertDeliveries,
  markDelivered,
  markFailed,
  markRetry,
  pruneFinished,
} from '../../../../src/server/event/webhook/delivery-rows.js';
import { clearStorage, describeStorage } from '../../../helpers/storage.js';

const A = 'https://a.example/hook';
const B = 'https://b.example/hook';

describeStorage('webhook delivery rows', (getStorage) => {
  const knex = () => getStorage().knex;
  const insert = (eventId: string, urls: string[], deadlineMs = 60_000) =>
    insertDeliveries(knex(), { eventId, webhookId: `evt_${eventId}_x`, body: '{"n":1}', urls, deadlineMs });

  afterEach(async () => {
    await clearStorage(getStorage());
  });

  it('inserts one row per URL, once, and skips disabled endpoints', async () => {
    expect(await insert('1', [A, B])).toEqual(expect.arrayContaining([A, B]));
    expect(await insert('1', [A, B])).toEqual([]);
    await disableEndpoint(knex(), B, 'test');
    expect(await insert('2', [A, B])).toEqual([A]);
    expect(await enableEndpoint(knex(), B)).toBe(true);
    expect(await enableEndpoint(knex(), B)).toBe(false);
    expect(await insert('3', [B])).toEqual([B]);
  });

  it('claims due rows once, under a lease, with the attempt as fencing token', async () => {
    await insert('10', [A, B]);
    const claimed = await claimDue(knex(), 10, 60_000);
    expect(claimed.map((c) => c.url).sort()).toEqual([A, B]);
    expect(claimed[0]).toMatchObject({ eventId: '10', webhookId: 'evt_10_x', body: '{"n":1}', attempt: 1 });
    expect(await claimDue(knex(), 10, 60_000)).toEqual([]); // leased
    const [first, second] = claimed as [(typeof claimed)[0], (typeof claimed)[0]];
    expect(await markDelivered(knex(), first.id, 2)).toBe(false); // not this attempt
    expect(await markDelivered(knex(), first.id, 1)).toBe(true);
    expect(await markDelivered(knex(), first.id, 1)).toBe(false); // finished already
    expect(await markRetry(knex(), second.id, 1, 0, 'HTTP 500')).toBe('pending');
    const again = await claimDue(knex(), 10, 60_000);
    expect(again).toEqual([expect.objectContaining({ id: second.id, attempt: 2 })]);
    expect(await markRetry(knex(), second.id, 1, 0, 'late answer of attempt 1')).toBeNull();
    expect(await markFailed(knex(), second.id, 2, 'refused')).toBe(true);
    expect(await deliveredSince(knex(), A, first.createdAt)).toBe(true);
    expect(await deliveredSince(knex(), B, first.createdAt)).toBe(false);
  });

  it('fails a retry that would come after the deadline', async () => {
    await insert('20', [A], 1000);
    const [row] = await claimDue(knex(), 1, 60_000);
    expect(await markRetry(knex(), row!.id, 1, 5000, 'HTTP 503')).toBe('failed');
    expect(await knex()(DELIVERY_TABLE).where({ id: row!.id }).first('status', 'last_error')).toEqual({ status: 'failed', last_error: 'HTTP 503' });
  });

  it('drops pending rows of a disabled endpoint and prunes only old finished rows', async () => {
    await insert('30', [A, B]);
    await insert('31', [A]);
    expect(await disableEndpoint(knex(), A, 'answered 410 Gone')).toBe(2);
    expect(await pruneFinished(knex(), 60_000)).toBe(0); // finished just now
    await knex()(DELIVERY_TABLE).where({ url: A }).update({ updated_at: knex().raw(`now() - interval '2 minutes'`) });
    expect(await pruneFinished(knex(), 60_000)).toBe(2);
    expect((await knex()(DELIVERY_TABLE).select('url', 'status'))).toEqual([{ url: B, status: 'pending' }]);
  });
});
