/**
 * Rows of fusion_cloud_entry: what exists in the tree (files and directories) with its metadata.
 * The driver holds the bytes; these rows are what every instance lists, sizes and charges.
 */
import type { Knex } from 'knex';
import type { CloudEntry } from '../../concept/index.js';
import type { KeyPage } from '../storage/storage.js';

/** Table of entries (migration fusion/cloud_0001). */
export const ENTRY_TABLE = 'fusion_cloud_entry';

interface EntryRow {
  path: string;
  parent: string;
  kind: 'file' | 'directory';
  size: string | number;
  sha256: string | null;
  creator: string | null;
  created: Date | string;
  updated: Date | string;
}

function iso(value: Date | string): string {
  return new Date(value).toISOString().replace(/\.\d{3}Z$/, '+00:00');
}

function toEntry(row: EntryRow): CloudEntry {
  return {
    name: row.path.slice(row.path.lastIndexOf('/') + 1),
    path: row.path,
    type: row.kind,
    size: Number(row.size),
    created: iso(row.created),
    updated: iso(row.updated),
    creator: row.creator,
    sha256: row.sha256,
  };
}

function parentPath(path: string): string {
  const cut = path.lastIndexOf('/');
  return cut === -1 ? '' : path.slice(0, cut);
}

/** The entry at `path`, or null. */
export async function selectEntry(knex: Knex, path: string): Promise<CloudEntry | null> {
  const row = (await knex<EntryRow>(ENTRY_TABLE).where({ path }).first()) as EntryRow | undefined;
  return row ? toEntry(row) : null;
}

/** The entries directly inside directory `path`, by name. */
export async function selectChildren(knex: Knex, path: string, page?: KeyPage): Promise<CloudEntry[]> {
  const query = knex<EntryRow>(ENTRY_TABLE).where({ parent: path });
  if (page === undefined) query.orderBy('path');
  else {
    // Pages follow byte order (COLLATE "C"), the order cursors compare in.
    query.orderByRaw('path COLLATE "C"').limit(page.limit);
    if (page.after !== undefined) query.whereRaw('path COLLATE "C" > ?', [page.after]);
  }
  return ((await query) as EntryRow[]).map(toEntry);
}

/** Every entry strictly below directory `path` (the whole tree for the root), by path. */
export async function selectDescendants(knex: Knex, path: string): Promise<CloudEntry[]> {
  const query = knex<EntryRow>(ENTRY_TABLE).orderBy('path');
  if (path !== '') query.where('path', 'like', `${escapeLike(path)}/%`);
  return ((await query) as EntryRow[]).map(toEntry);
}

/** True when directory `path` has at least one entry inside. */
export async function hasChildren(knex: Knex, path: string): Promise<boolean> {
  return (await knex(ENTRY_TABLE).where({ parent: path }).first('path')) !== undefined;
}

/** Inserts a directory row; false when `path` exists already. */
export async function insertDirectory(knex: Knex, path: string, creator: string | null, now: Date): Promise<boolean> {
  const inserted = await knex(ENTRY_TABLE)
    .insert({ path, parent: parentPath(path), kind: 'directory', size: 0, sha256: null, creator, created: now, updated: now })
    .onConflict('path')
    .ignore()
    .returning('path');
  return inserted.length === 1;
}

/** Inserts or replaces a file row (creator and created are kept when it exists). */
export async function upsertFile(knex: Knex, file: { path: string; size: number; sha256: string; creator: string | null }, now: Date): Promise<CloudEntry> {
  const [row] = (await knex(ENTRY_TABLE)
    .insert({ path: file.path, parent: parentPath(file.path), kind: 'file', size: file.size, sha256: file.sha256, creator: file.creator, created: now, updated: now })
    .onConflict('path')
    .merge(['size', 'sha256', 'updated'])
    .returning('*')) as EntryRow[];
  return toEntry(row!);
}

/** Deletes the entry at `path` and everything below it; returns the deleted rows. */
export async function deleteTree(knex: Knex, path: string): Promise<CloudEntry[]> {
  const rows = (await knex(ENTRY_TABLE)
    .where({ path })
    .orWhere('path', 'like', `${escapeLike(path)}/%`)
    .delete()
    .returning('*')) as EntryRow[];
  return rows.map(toEntry);
}

/** Bytes of the files `creator` created (what its quota counts). */
export async function usedBytes(knex: Knex, creator: string, except?: string): Promise<number> {
  const query = knex(ENTRY_TABLE).where({ creator, kind: 'file' });
  if (except !== undefined) query.whereNot({ path: except });
  const [row] = (await query.sum({ total: 'size' })) as { total: string | number | null }[];
  return Number(row?.total ?? 0);
}

/** `text` with LIKE wildcards escaped (PostgreSQL's default escape character is `\`). */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (char) => `\\${char}`);
}
