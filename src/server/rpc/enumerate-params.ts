/**
 * The params of `case.enumerate`: none (or `{}`) for the whole list, or `{limit, cursor?}` for
 * one page, as the HTTP list route's `?limit=&cursor=` (list-paging.ts): a limit from 1 to
 * 1000, a cursor that is the `next` of the previous page. Anything else is -32602 naming it.
 */
import { MAX_PAGE_LIMIT, decodeCursor } from '../list-paging.js';
import { protocolError } from './protocol.js';

/** One page asked for, or null for the whole list. */
export type EnumerateParams = { limit: number; cursor?: string } | null;

/** Checks `case.enumerate` params (see the file comment); throws an RpcError -32602 naming the field. */
export function enumerateParams(params: unknown): EnumerateParams {
  if (params === undefined || params === null) return null;
  if (typeof params !== 'object' || Array.isArray(params)) throw protocolError.params('params: expected an object ({limit, cursor}) or none');
  const { limit, cursor, ...rest } = params as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw protocolError.params(`params.${unknown[0]!.slice(0, 40)}: unknown (case.enumerate takes limit and cursor)`);
  if (limit === undefined) {
    if (cursor !== undefined) throw protocolError.params(`params.cursor: give limit too (a page size from 1 to ${MAX_PAGE_LIMIT})`);
    return null;
  }
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
    throw protocolError.params(`params.limit: expected an integer from 1 to ${MAX_PAGE_LIMIT}, got ${JSON.stringify(limit)?.slice(0, 20) ?? String(limit)}`);
  }
  if (cursor === undefined || cursor === null || cursor === '') return { limit };
  if (typeof cursor !== 'string') throw protocolError.params('params.cursor: expected a string, the `next` of the previous page');
  try {
    decodeCursor(cursor);
  } catch {
    throw protocolError.params('params.cursor: not a cursor of this list: pass the `next` of the previous page as it was');
  }
  return { limit, cursor };
}
