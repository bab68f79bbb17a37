/**
 * `?limit=&cursor=` on the list routes besides the case list: identities and a cloud directory
 * (keyed by username and by path), with `next` in the envelope, the whole list unchanged
 * without limit, bad parameters refused with 400, and the typed clients' page methods.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FusionAuthAPIClient } from '../../src/client/api/auth.js';
import { decodeKeyCursor, encodeCursor, encodeKeyCursor, keyPageOf } from '../../src/server/list-paging.js';
import { describeStorage } from '../helpers/storage.js';
import { startCloud } from './cloud/harness.js';
import type { CloudHarness } from './cloud/harness.js';
import { raw } from './case/helpers.js';

describe('keyPageOf', () => {
  it('pages by key in code-unit order whatever the input order, next null on the last page', () => {
    const items = ['b', 'a', 'É', 'c', 'B'].map((name) => ({ name }));
    const first = keyPageOf(items, { limit: 2 }, (i) => i.name);
    expect(first.items.map((i) => i.name)).toEqual(['B', 'a']);
    expect(decodeKeyCursor(first.next!)).toBe('a');
    const second = keyPageOf(items, { limit: 2, after: 'a' }, (i) => i.name);
    expect(second.items.map((i) => i.name)).toEqual(['b', 'c']);
    expect(keyPageOf(items, { limit: 2, after: 'c' }, (i) => i.name)).toEqual({ items: [{ name: 'É' }], next: null });
  });
});

describeStorage('paged list routes', (getStorage) => {
  let cloud: CloudHarness;

  beforeAll(async () => {
    cloud = await startCloud({ storage: getStorage() });
    await cloud.jane.createDirectory('/box');
    for (const name of ['d4', 'é', 'd1', 'D0', 'd3', 'd2', 'd5']) await cloud.jane.createDirectory(`/box/${name}`);
  }, 60_000);

  afterAll(async () => {
    await cloud?.close();
  });

  const service = (): Record<string, string> => ({ 'x-fusion-api-token': cloud.server.apiKey });

  it('pages the identities by username; the whole list without limit as before', async () => {
    const whole = await raw(cloud.server.baseUrl, 'GET', '/api/auth/identities', { headers: service() });
    const usernames = (whole.body.data as { username: string }[]).map((i) => i.username);
    expect(usernames).toEqual(['eve', 'jane', 'mike']);
    expect(whole.body.next).toBeUndefined();
    const first = await raw(cloud.server.baseUrl, 'GET', '/api/auth/identities?limit=2', { headers: service() });
    expect(first.body).toMatchObject({ status: 200, count: 2, next: encodeKeyCursor('jane') });
    const second = await raw(cloud.server.baseUrl, 'GET', `/api/auth/identities?limit=2&cursor=${String(first.body.next)}`, { headers: service() });
    expect(second.body).toMatchObject({ status: 200, count: 1, next: null, data: [{ username: 'mike' }] });
    const auth = new FusionAuthAPIClient({ client: cloud.server.clients.service.client });
    const sizes: number[] = [];
    for await (const page of auth.identityPages({ limit: 1 })) sizes.push(page.length);
    expect(sizes).toEqual([1, 1, 1]);
    expect((await auth.enumerateIdentities({ limit: 2 })).map((i) => i.username)).toEqual(usernames);
  });

  it('pages a cloud directory by path in byte order (whatever the collation), with the rights of the caller', async () => {
    const whole = await cloud.jane.list('/box');
    expect(whole.map((e) => e.name).sort()).toEqual(['D0', 'd1', 'd2', 'd3', 'd4', 'd5', 'é']);
    const pages: string[][] = [];
    for await (const page of cloud.jane.listPages('/box', { limit: 2 })) pages.push(page.map((e) => e.name));
    expect(pages).toEqual([['D0', 'd1'], ['d2', 'd3'], ['d4', 'd5'], ['é']]);
    await expect(cloud.mike.listPages('/box', { limit: 2 }).next()).rejects.toMatchObject({ status: 403 });
    await expect(cloud.anonymous.listPages('/box', { limit: 2 }).next()).rejects.toMatchObject({ status: 401 });
  });

  it.each([
    ['/api/auth/identities?limit=0', /^query\.limit: expected an integer from 1 to 1000/],
    ['/api/auth/identities?cursor=abc', /^query\.cursor: give limit too/],
    ['/api/auth/identities?limit=2&cursor=%%%', /^query\.cursor: not a cursor of this list/],
    [`/api/auth/identities?limit=2&cursor=${encodeCursor({ created: new Date(0), guid: '0f6c2d9a-3b1e-4f5a-9c8d-7e6f5a4b3c2d' })}`, /^query\.cursor: not a cursor of this list/],
    ['/api/cloud/tree?limit=abc', /^query\.limit: /],
  ])('refuses %s with 400 naming the parameter', async (path, message) => {
    const answer = await raw(cloud.server.baseUrl, 'GET', path, { headers: service() });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ code: 'FUSION_ERR_VALIDATION', message: expect.stringMatching(message) });
  });

  it('refuses a case cursor on the case list only in its own format', async () => {
    const answer = await raw(cloud.server.baseUrl, 'GET', `/api/cases?limit=2&cursor=${encodeKeyCursor('jane')}`, { headers: service() });
    expect(answer.status).toBe(400);
  });
});
