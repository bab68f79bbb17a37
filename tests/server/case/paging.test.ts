/**
 * GET /api/cases?limit=&cursor=: pages in a stable order (creation time, then guid), `next` in
 * the envelope (null on the last page), bad parameters refused with 400; without limit the whole
 * list as before; the typed client's pages() and enumerate().
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { Case } from '../../../src/concept/index.js';
import { decodeCursor, encodeCursor } from '../../../src/server/list-paging.js';
import type { TestServer } from '../../../src/testing/index.js';
import { describeStorage } from '../../helpers/storage.js';
import { raw, silenceAudit, startCaseServer } from './helpers.js';

describeStorage('GET /api/cases paging', (getStorage) => {
  silenceAudit();
  let t: TestServer;
  let all: Case[];

  beforeAll(async () => {
    t = await startCaseServer(getStorage());
    for (let i = 0; i < 12; i++) await t.clients.user.case.createCase({ name: `paged ${i}`, acs: [i % 3 === 0 ? 'outsiders' : 'soc'] });
    all = await t.clients.service.case.enumerateCases();
  }, 60_000);

  afterAll(async () => {
    await t?.close();
  });

  const cookie = (): Record<string, string> => ({ cookie: `FUSION_SESSION=${t.clients.user.client.sessionCookie}` });
  const service = (): Record<string, string> => ({ 'x-fusion-api-token': t.apiKey });

  it('walks every case once, in the order of the full list, with next null on the last page', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor === null ? '?limit=5' : `?limit=5&cursor=${cursor}`;
      const answer = await raw(t.baseUrl, 'GET', `/api/cases${query}`, { headers: service() });
      expect(answer.status).toBe(200);
      const data = answer.body.data as { guid: string }[];
      expect(answer.body.count).toBe(data.length);
      expect(data.length).toBeLessThanOrEqual(5);
      seen.push(...data.map((c) => c.guid));
      cursor = answer.body.next as string | null;
      pages += 1;
    } while (cursor !== null && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual(all.map((c) => c.guid));
  });

  it('keeps answering the whole list without limit (edf_fusion clients), with no next', async () => {
    const answer = await raw(t.baseUrl, 'GET', '/api/cases', { headers: service() });
    expect((answer.body.data as unknown[]).length).toBe(all.length);
    expect(answer.body.next).toBeUndefined();
  });

  it('pages only the cases a user may see', async () => {
    const visible = (await t.clients.user.case.enumerateCases()).map((c) => c.guid);
    const paged = (await t.clients.user.case.enumerate({ limit: 3 })).map((c) => c.guid);
    expect(paged).toEqual(visible);
    expect(visible.length).toBe(8);
  });

  it('gives the typed client pages() and enumerate()', async () => {
    const sizes: number[] = [];
    for await (const page of t.clients.service.case.pages({ limit: 4 })) sizes.push(page.length);
    expect(sizes).toEqual([4, 4, 4]);
    expect((await t.clients.service.case.enumerate()).map((c) => c.guid)).toEqual(all.map((c) => c.guid));
  });

  it('starts the next page right after the case its cursor names', async () => {
    const first = await raw(t.baseUrl, 'GET', '/api/cases?limit=6', { headers: service() });
    const next = first.body.next as string;
    const second = await raw(t.baseUrl, 'GET', `/api/cases?limit=6&cursor=${next}`, { headers: service() });
    expect((second.body.data as { guid: string }[]).map((c) => c.guid)).toEqual(all.slice(6, 12).map((c) => c.guid));
    expect(decodeCursor(next)).toEqual({ created: all[5]!.created, guid: all[5]!.guid });
  });

  it.each([
    ['?limit=0', /^query\.limit: expected an integer from 1 to 1000/],
    ['?limit=1001', /^query\.limit/],
    ['?limit=abc', /^query\.limit/],
    ['?limit=-1', /^query\.limit/],
    ['?limit=5&limit=6', /^query\.limit/],
    ['?cursor=abc', /^query\.cursor: give limit too/],
    ['?limit=5&cursor=!!!', /^query\.cursor: not a cursor/],
    ['?limit=5&cursor=e30', /^query\.cursor: not a cursor/],
    [`?limit=5&cursor=${encodeCursor({ created: new Date(), guid: 'x'.repeat(36) }).slice(0, 10)}`, /^query\.cursor/],
  ])('refuses %s with a 400 naming the parameter', async (query, message) => {
    const answer = await raw(t.baseUrl, 'GET', `/api/cases${query}`, { headers: cookie() });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ status: 400, code: 'FUSION_ERR_VALIDATION' });
    expect(answer.body.message).toMatch(message);
  });
});
