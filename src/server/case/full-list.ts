/** The whole case list (GET /api/cases without paging), read batch by batch through the enumerate step. */
import type { Case } from '../../concept/index.js';
import { comparePageKeys, pageOf } from '../list-paging.js';
import type { PageAfter } from '../list-paging.js';

/** Cases read (and decoded) per query when the whole list is asked for. */
export const FULL_LIST_BATCH = 100;

/**
 * Every case, batch by batch, through the enumerate step asked for pages. A step that ignores
 * the page and answers with more than asked gives the whole list, sent as it is.
 */
export async function* allCases<C extends Case>(fetch: (after: PageAfter | undefined) => Promise<C[]>): AsyncGenerator<C[], void, undefined> {
  let after: PageAfter | undefined;
  for (;;) {
    const fetched = [...(await fetch(after))].sort(comparePageKeys);
    if (fetched.length > FULL_LIST_BATCH + 1) {
      for (let i = 0; i < fetched.length; i += FULL_LIST_BATCH) yield fetched.slice(i, i + FULL_LIST_BATCH);
      return;
    }
    const { items, next } = pageOf(fetched, after === undefined ? { limit: FULL_LIST_BATCH } : { limit: FULL_LIST_BATCH, after });
    yield items;
    if (next === null) return;
    after = items[items.length - 1]!;
  }
}
