/**
 * `case.enumerate` pages like GET /api/cases: `{limit, cursor}` gives `{items, next}`, the
 * pages together are the whole list in order; bad paging params are -32602 naming the field.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { FusionRpcError } from '../../../src/client/api/rpc.js';
import type { FusionRpcClient } from '../../../src/client/api/rpc.js';
import { describeStorage } from '../../helpers/storage.js';
import { WsProbe, silenceAudit, startRpcServer, userClient } from './helpers.js';
import type { RpcServer } from './helpers.js';

interface WireCase {
  guid: string;
  name: string;
}

interface Page {
  items: WireCase[];
  next: string | null;
}

describeStorage('RPC case.enumerate paging', (getStorage) => {
  silenceAudit();
  let t: RpcServer;
  let alice: FusionRpcClient;
  let eve: FusionRpcClient;
  const made: string[] = [];

  beforeAll(async () => {
    t = await startRpcServer(getStorage());
    alice = await userClient(t, 'alice');
    eve = await userClient(t, 'eve');
    for (let i = 0; i < 7; i++) {
      const created = (await alice.call('case.create', { case: { name: `paged ${i}`, acs: ['soc'] } })) as WireCase;
      made.push(created.guid);
    }
  }, 60_000);

  afterAll(async () => {
    await alice?.close();
    await eve?.close();
    await t?.close();
  });

  it('gives pages of `limit` with `next`, which together are the whole list, in order', async () => {
    const whole = (await alice.call('case.enumerate')) as WireCase[];
    expect(whole.map((c) => c.guid).sort()).toEqual([...made].sort());
    const pages: Page[] = [];
    let cursor: string | null = null;
    do {
      const page = (await alice.call('case.enumerate', cursor === null ? { limit: 3 } : { limit: 3, cursor })) as Page;
      pages.push(page);
      cursor = page.next;
    } while (cursor !== null && pages.length < 10);
    expect(pages.map((p) => p.items.length)).toEqual([3, 3, 1]);
    expect(pages.flatMap((p) => p.items.map((c) => c.guid))).toEqual(whole.map((c) => c.guid));
    expect(pages[2]!.next).toBeNull();
    // The same pages as HTTP gives.
    const http = await t.clients.user.client.requestRaw('GET', '/api/cases', { query: { limit: '3' } });
    const envelope = (await http.body.json()) as { data: WireCase[]; next: string | null };
    expect(pages[0]).toEqual({ items: envelope.data, next: envelope.next });
  });

  it('pages only what the caller may see', async () => {
    expect(await eve.call('case.enumerate', { limit: 5 })).toEqual({ items: [], next: null });
  });

  it('takes no params, null or {} as the whole list', async () => {
    const whole = (await alice.call('case.enumerate')) as WireCase[];
    expect(await alice.call('case.enumerate', {})).toEqual(whole);
    const p = await WsProbe.open(t.wsUrl, { 'x-fusion-api-token': t.apiKey });
    try {
      const answer = await p.call(1, 'case.enumerate', {});
      expect((answer.result as WireCase[]).length).toBeGreaterThanOrEqual(made.length);
    } finally {
      await p.close();
    }
  });

  it.each([
    [{ limit: 0 }, /params\.limit: expected an integer from 1 to 1000, got 0/],
    [{ limit: 1001 }, /params\.limit: .*got 1001/],
    [{ limit: 2.5 }, /params\.limit/],
    [{ limit: '3' }, /params\.limit: .*got "3"/],
    [{ limit: -1 }, /params\.limit/],
    [{ cursor: 'abc' }, /params\.cursor: give limit too/],
    [{ limit: 2, cursor: 'not a cursor!' }, /params\.cursor: not a cursor of this list/],
    [{ limit: 2, cursor: Buffer.from(JSON.stringify(['2026-01-01T00:00:00.000Z', 'not-a-guid'])).toString('base64url') }, /params\.cursor: not a cursor/],
    [{ limit: 2, cursor: 7 }, /params\.cursor: expected a string/],
    [{ limit: 2, page: 3 }, /params\.page: unknown/],
    [[3], /params: expected an object/],
  ])('answers %j with a JSON-RPC -32602 frame naming the problem', async (params, message) => {
    const p = await WsProbe.open(t.wsUrl, { 'x-fusion-api-token': t.apiKey });
    try {
      const answer = await p.call(7, 'case.enumerate', params);
      expect(answer).toMatchObject({ jsonrpc: '2.0', id: 7, error: { code: -32602, data: { code: 'FUSION_ERR_VALIDATION' } } });
      expect(answer.error!.message).toMatch(message);
    } finally {
      await p.close();
    }
    // Through our client too: the same error.
    const error = await alice.call('case.enumerate', params as Record<string, unknown>).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(FusionRpcError);
    expect((error as FusionRpcError).rpcCode).toBe(-32602);
    expect((error as FusionRpcError).message).toMatch(message);
  });
});
