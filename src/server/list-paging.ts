/**
 * Paging of list routes: `?limit=N` (1 to 1000) and `?cursor=<opaque>` ask for one page, and the
 * envelope carries `next`, the cursor of the following page (null on the last one). A cursor
 * names the last item of its page by its sort key (creation time, then guid), so pages stay
 * stable while items are added or removed elsewhere. Without `limit`, the whole list is sent.
 * Lists keyed by a unique string (names, paths) page the same way by that key (`keyedListAnswer`).
 */
import type { FastifyReply } from 'fastify';
import { badTextProblem } from '../concept/text-check.js';
import { FusionError } from '../helper/errors.js';
import { toWire } from './envelope.js';
import type { JsonSchema } from './envelope.js';

/** Largest page a client may ask for. */
export const MAX_PAGE_LIMIT = 1000;

/** The query schema of a paged list route (for the OpenAPI document; the handler checks the values). */
export const PAGE_QUERY: JsonSchema = {
  type: 'object',
  properties: {
    limit: { type: 'string', description: `page size, 1 to ${MAX_PAGE_LIMIT}; without it, the whole list` },
    cursor: { type: 'string', description: 'the `next` of the previous page' },
  },
};

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
// What encodeCursor writes (toISOString of a year 1 to 9999): a forged date outside it would reach SQL out of the database's range.
const ISO_TIME = /^(?!0000)\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function bad(): FusionError {
  return new FusionError('FUSION_ERR_VALIDATION', 'query.cursor: not a cursor of this list: pass the `next` of the previous page as it was');
}

/** The JSON a cursor (base64url) holds; 400 when it holds none. */
function cursorJson(cursor: string, maxLength: number): unknown {
  if (cursor.length > maxLength || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw bad();
  try {
    return JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
  } catch {
    throw bad();
  }
}

/** The cursor naming `item` (the last of a page). */
export function encodeCursor(item: PageAfter): string {
  return Buffer.from(JSON.stringify([item.created.toISOString(), item.guid]), 'utf8').toString('base64url');
}

/** The sort key a cursor names; FUSION_ERR_VALIDATION (400) when it is not one this server made. */
export function decodeCursor(cursor: string): PageAfter {
  const parsed = cursorJson(cursor, 200);
  if (!Array.isArray(parsed) || parsed.length !== 2 || typeof parsed[0] !== 'string' || typeof parsed[1] !== 'string') throw bad();
  const created = new Date(parsed[0]);
  if (!ISO_TIME.test(parsed[0]) || Number.isNaN(created.getTime()) || created.toISOString() !== parsed[0] || !GUID.test(parsed[1])) throw bad();
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

/** One page of a list keyed by a unique string (a name, a path): the key the page starts after. */
export interface KeyPageRequest {
  limit: number;
  /** Absent for the first page. */
  after?: string;
}

const KEY_CURSOR_TAG = 'k';

/** The cursor naming the item of key `key` (the last of a page) in a keyed list. */
export function encodeKeyCursor(key: string): string {
  return Buffer.from(JSON.stringify([KEY_CURSOR_TAG, key]), 'utf8').toString('base64url');
}

/** The key a keyed-list cursor names; FUSION_ERR_VALIDATION (400) when it is not one this server made. */
export function decodeKeyCursor(cursor: string): string {
  const parsed = cursorJson(cursor, 6000);
  // No key holds NUL or a lone surrogate (concepts refuse them), and SQL must not see one.
  if (!Array.isArray(parsed) || parsed.length !== 2 || parsed[0] !== KEY_CURSOR_TAG || typeof parsed[1] !== 'string' || badTextProblem(parsed[1]) !== null) throw bad();
  return parsed[1];
}

/** Reads `limit` and `cursor` for a keyed list; null when no page is asked for. Throws 400 naming the parameter. */
export function parseKeyPageQuery(query: unknown): KeyPageRequest | null {
  const q = (typeof query === 'object' && query !== null ? query : {}) as Record<string, unknown>;
  const cursor = q.cursor;
  // The limit rules are those of the case list; its cursor format is not.
  const page = parsePageQuery({ limit: q.limit });
  if (page === null) {
    if (cursor !== undefined) throw new FusionError('FUSION_ERR_VALIDATION', 'query.cursor: give limit too (a page size from 1 to 1000)');
    return null;
  }
  if (cursor === undefined || cursor === '') return { limit: page.limit };
  if (typeof cursor !== 'string') throw new FusionError('FUSION_ERR_VALIDATION', 'query.cursor: give it once');
  return { limit: page.limit, after: decodeKeyCursor(cursor) };
}

/** Order of keyed pages: UTF-8 byte order (code points), as PostgreSQL's COLLATE "C" sorts. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** One page of `items` ordered by `keyOf` (byte order, whatever order they came in) and its `next` cursor. */
export function keyPageOf<T>(items: readonly T[], page: KeyPageRequest, keyOf: (item: T) => string): { items: T[]; next: string | null } {
  const keyed = items.map((item) => ({ key: keyOf(item), item })).sort((a, b) => compareKeys(a.key, b.key));
  const after = page.after;
  const rest = after === undefined ? keyed : keyed.filter((entry) => compareKeys(entry.key, after) > 0);
  const slice = rest.slice(0, page.limit);
  const next = rest.length > page.limit ? encodeKeyCursor(slice[slice.length - 1]!.key) : null;
  return { items: slice.map((entry) => entry.item), next };
}

/** Sends one page in the envelope with `next` beside `data` and `count` (the route's schema describes the plain list). */
export function sendPage(reply: FastifyReply, data: readonly unknown[], next: string | null): FastifyReply {
  return reply.serializer((payload: unknown) => JSON.stringify(payload)).send({ status: 200, data: toWire(data), count: data.length, next });
}

/**
 * A keyed list route's answer: the whole list, `fetch(null)`, as it is when the query asks for
 * no page (the route's envelope); else the page asked for, sent with `next`. `fetch` gets
 * one item more than the page (to tell whether a next one exists) and may cut in SQL, in byte
 * order; what it returns is ordered and cut again here, so a fetch that cuts nothing works too.
 */
export async function keyedListAnswer<T>(
  query: unknown,
  reply: FastifyReply,
  fetch: (page: KeyPageRequest | null) => Promise<readonly T[]>,
  keyOf: (item: T) => string,
): Promise<readonly T[] | FastifyReply> {
  const page = parseKeyPageQuery(query);
  if (page === null) return fetch(null);
  const fetched = await fetch({ ...page, limit: page.limit + 1 });
  const { items, next } = keyPageOf(fetched, page, keyOf);
  return sendPage(reply, items, next);
}
