/**
 * Paging of list routes: `?limit=N` (1 to 1000) and `?cursor=<opaque>` ask for one page, and the
 * envelope carries `next`, the cursor of the following page (null on the last one). A cursor
 * names the last item of its page by its sort key (creation time, then guid), so pages stay
 * stable while items are added or removed elsewhere. Without `limit`, the whole list is sent.
 */
import { FusionError } from '../helper/errors.js';

/** Largest page a client may ask for. */
export const MAX_PAGE_LIMIT = 1000;

/** The sort key a page starts after. */
export interface PageAfter {
  created: Date;
  guid: string;
}

/** One page asked for. */
export interface PageRequest {
  limit: number;
  /** Absent for the first page. */
  after?: PageAfter;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The cursor naming `item` (the last of a page). */
export function encodeCursor(item: PageAfter): string {
  return Buffer.from(JSON.stringify([item.created.toISOString(), item.guid]), 'utf8').toString('base64url');
}

/** The sort key a cursor names; FUSION_ERR_VALIDATION (400) when it is not one this server made. */
export function decodeCursor(cursor: string): PageAfter {
  const bad = (): FusionError => new FusionError('FUSION_ERR_VALIDATION', 'query.cursor: not a cursor of this list: pass the `next` of the previous page as it was');
  if (cursor.length > 200 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw bad();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  if (!Array.isArray(parsed) || parsed.length !== 2 || typeof parsed[0] !== 'string' || typeof parsed[1] !== 'string') throw bad();
  const created = new Date(parsed[0]);
  if (Number.isNaN(created.getTime()) || !GUID.test(parsed[1])) throw bad();
  return { created, guid: parsed[1] };
}

/** Reads `limit` and `cursor` from a query; null when no page is asked for (the whole list). Throws 400 naming the parameter. */
export function parsePageQuery(query: unknown): PageRequest | null {
  const q = (typeof query === 'object' && query !== null ? query : {}) as Record<string, unknown>;
  const { limit, cursor } = q;
  if (limit === undefined) {
    if (cursor !== undefined) throw new FusionError('FUSION_ERR_VALIDATION', 'query.cursor: give limit too (a page size from 1 to 1000)');
    return null;
  }
  if (typeof limit !== 'string' || !/^\d{1,4}$/.test(limit) || Number(limit) < 1 || Number(limit) > MAX_PAGE_LIMIT) {
    throw new FusionError('FUSION_ERR_VALIDATION', `query.limit: expected an integer from 1 to ${MAX_PAGE_LIMIT}, got ${JSON.stringify(String(limit).slice(0, 20))}`);
  }
  if (cursor === undefined || cursor === '') return { limit: Number(limit) };
  if (typeof cursor !== 'string') throw new FusionError('FUSION_ERR_VALIDATION', 'query.cursor: give it once');
  return { limit: Number(limit), after: decodeCursor(cursor) };
}

/** Sort order of paged lists: creation time, then guid. */
export function comparePageKeys(a: PageAfter, b: PageAfter): number {
  const byTime = a.created.getTime() - b.created.getTime();
  return byTime !== 0 ? byTime : a.guid < b.guid ? -1 : a.guid > b.guid ? 1 : 0;
}

/**
 * One page of `items` (sorted by comparePageKeys, possibly holding more than a page: one more
 * tells a next page exists) and the `next` cursor, null when this is the last page.
 */
export function pageOf<T extends PageAfter>(items: readonly T[], page: PageRequest): { items: T[]; next: string | null } {
  const after = page.after;
  const rest = after === undefined ? items : items.filter((item) => comparePageKeys(item, after) > 0);
  const slice = rest.slice(0, page.limit);
  const next = rest.length > page.limit ? encodeCursor(slice[slice.length - 1]!) : null;
  return { items: slice, next };
}
