/** Reads a paged list route (`?limit=&cursor=`, `next` in the envelope) page by page. */
import type { FusionClient } from './client.js';

/** Options of a `...Pages()` method. */
export interface PageOptions {
  /** Items per request, 1 to 1000 (default 1000). */
  limit?: number;
}

/** Yields each page of GET `path` decoded with `decode`, until the server's `next` is null. `what` names the caller in errors. */
export async function* listPages<T>(client: FusionClient, path: string, decode: (item: unknown) => T, what: string, options: PageOptions = {}): AsyncGenerator<T[], void, undefined> {
  const limit = options.limit ?? 1000;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new TypeError(`${what}: limit must be an integer from 1 to 1000`);
  let cursor: string | null = null;
  do {
    const query: Record<string, string> = cursor === null ? { limit: String(limit) } : { limit: String(limit), cursor };
    const response = await client.requestRaw('GET', path, { query });
    const envelope = (await response.body.json()) as { data?: unknown; next?: unknown };
    if (!Array.isArray(envelope.data)) throw new TypeError(`GET ${path}: expected a list in data`);
    yield envelope.data.map(decode);
    cursor = typeof envelope.next === 'string' ? envelope.next : null;
  } while (cursor !== null);
}

/** Every item of `pages`, in order. */
export async function collectPages<T>(pages: AsyncIterable<T[]>): Promise<T[]> {
  const all: T[] = [];
  for await (const page of pages) all.push(...page);
  return all;
}
