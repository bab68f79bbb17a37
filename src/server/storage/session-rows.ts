/** Sessions (`fusion_session`, keyed by sha256 of the token) and identities (`fusion_identity`). */
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { Identity } from '../../concept/index.js';
import { FusionError } from '../../helper/errors.js';
import { affectedRows } from './affected-rows.js';
import type { KeyPage, NewSession, SessionPatch, StoredSession } from './storage.js';

/** Name of the sessions table. */
export const SESSION_TABLE = 'fusion_session';
/** Name of the identities table. */
export const IDENTITY_TABLE = 'fusion_identity';

/** The stored key of a session token: sha256, lowercase hex. The raw token is never stored. */
export function hashToken(token: string): string {
  if (typeof token !== 'string' || token === '') {
    throw new FusionError('FUSION_ERR_BAD_REQUEST', 'session token must be a non-empty string');
  }
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

function validDate(value: Date, name: string): Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new FusionError('FUSION_ERR_BAD_REQUEST', `session ${name} must be a valid Date`);
  }
  return value;
}

function plainData(value: Record<string, unknown> | undefined): string {
  if (value === undefined) return '{}';
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new FusionError('FUSION_ERR_BAD_REQUEST', 'session data must be a JSON object');
  }
  return JSON.stringify(value);
}

function asDate(value: unknown): Date {
  return value instanceof Date ? value : new Date(String(value));
}

/** Inserts a session. */
export async function insertSession(knex: Knex, session: NewSession): Promise<void> {
  await knex(SESSION_TABLE).insert({
    token_hash: hashToken(session.token),
    username: session.identity.username,
    identity: JSON.stringify(session.identity.toJSON()),
    data: plainData(session.data),
    created_at: new Date(),
    expires_at: validDate(session.expiresAt, 'expiresAt'),
  });
}

/** The live (unexpired) session of `token`, or null. */
export async function selectSession(knex: Knex, token: string): Promise<StoredSession | null> {
  const row = await knex(SESSION_TABLE)
    .where({ token_hash: hashToken(token) })
    .andWhere('expires_at', '>', new Date())
    .first<{ identity: unknown; data: unknown; expires_at: unknown } | undefined>('identity', 'data', 'expires_at');
  if (!row) return null;
  const data = row.data !== null && typeof row.data === 'object' && !Array.isArray(row.data) ? (row.data as Record<string, unknown>) : {};
  return { identity: Identity.fromJSON(row.identity), data, expiresAt: asDate(row.expires_at) };
}

/** Replaces the given fields of the session of `token`. */
export async function patchSession(knex: Knex, token: string, patch: SessionPatch): Promise<void> {
  const changes: Record<string, unknown> = {};
  if (patch.data !== undefined) changes.data = plainData(patch.data);
  if (patch.expiresAt !== undefined) changes.expires_at = validDate(patch.expiresAt, 'expiresAt');
  if (patch.identity !== undefined) {
    changes.identity = JSON.stringify(patch.identity.toJSON());
    changes.username = patch.identity.username;
  }
  const tokenHash = hashToken(token);
  if (Object.keys(changes).length === 0) return;
  await knex(SESSION_TABLE).where({ token_hash: tokenHash }).update(changes);
}

/** Deletes the session of `token`. */
export async function removeSession(knex: Knex, token: string): Promise<void> {
  await knex(SESSION_TABLE).where({ token_hash: hashToken(token) }).delete();
}

/** Deletes expired sessions; returns how many. */
export async function pruneExpiredSessions(knex: Knex): Promise<number> {
  return affectedRows(await knex(SESSION_TABLE).where('expires_at', '<=', new Date()).delete());
}

/** Inserts or replaces an identity. */
export async function upsertIdentity(knex: Knex, identity: Identity): Promise<void> {
  await knex(IDENTITY_TABLE)
    .insert({ username: identity.username, document: JSON.stringify(identity.toJSON()), updated_at: new Date() })
    .onConflict('username')
    .merge();
}

/** Every identity, ordered by username; with `page`, one page of them in byte order. */
export async function selectIdentities(knex: Knex, page?: KeyPage): Promise<Identity[]> {
  const query = knex(IDENTITY_TABLE).select<{ document: unknown }[]>('document');
  if (page === undefined) query.orderBy('username');
  else {
    // Pages follow byte order (COLLATE "C"), the order cursors compare in, whatever the database's collation.
    query.orderByRaw('username COLLATE "C"').limit(page.limit);
    if (page.after !== undefined) query.whereRaw('username COLLATE "C" > ?', [page.after]);
  }
  const rows = await query;
  return rows.map((row) => Identity.fromJSON(row.document));
}
