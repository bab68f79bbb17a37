/**
 * Payloads for other instances, through the message table: written with their NOTIFY in one
 * transaction (ids only in the NOTIFY), and consumed once by the instance they are for.
 */
import type { FusionStorage } from '../storage/storage.js';
import type { MessageRow } from './dispatcher.js';
import { rowsOf } from './records.js';
import type { ConnectionSelector } from './selector.js';
import { whereOf } from './selector.js';
import { CONNECTION_MESSAGE_TABLE, CONNECTION_TABLE } from './tables.js';

/**
 * Stores one payload row per live connection of other instances matching `selector` (the
 * newest only when `first`) and notifies their instances on `channel`; returns the connection ids.
 */
export function storeForConnections(storage: FusionStorage, channel: string, instanceId: string, selector: ConnectionSelector, text: string, first: boolean): Promise<string[]> {
  const where = whereOf(selector);
  return storage.knex.transaction(async (trx) => {
    const result = await trx.raw(
      `INSERT INTO ${CONNECTION_MESSAGE_TABLE} (instance_id, connection_id, topic, payload)
       SELECT instance_id, id, kind, ? FROM ${CONNECTION_TABLE}
        WHERE instance_id <> ? AND expires_at > now() ${where.sql ? `AND ${where.sql}` : ''}
        ${first ? 'ORDER BY opened_at DESC LIMIT 1' : ''}
       RETURNING instance_id, connection_id::text AS connection_id`,
      [text, instanceId, ...where.bindings],
    );
    const rows = rowsOf<{ instance_id: string; connection_id: string }>(result);
    for (const instance of new Set(rows.map((row) => row.instance_id))) await trx.raw('SELECT pg_notify(?, ?)', [channel, instance]);
    return rows.map((row) => row.connection_id);
  });
}

/** Stores an instance message for the handler of `topic` on `instanceId` and notifies it on `channel`. */
export async function storeForInstance(storage: FusionStorage, channel: string, instanceId: string, topic: string, text: string): Promise<void> {
  await storage.knex.transaction(async (trx) => {
    await trx.raw(`INSERT INTO ${CONNECTION_MESSAGE_TABLE} (instance_id, connection_id, topic, payload) VALUES (?, NULL, ?, ?)`, [instanceId, topic, text]);
    await trx.raw('SELECT pg_notify(?, ?)', [channel, instanceId]);
  });
}

/** Deletes and returns the payloads waiting for `instanceId`, in the order they were stored. */
export async function takeMessages(storage: FusionStorage, instanceId: string): Promise<MessageRow[]> {
  const result = await storage.knex.raw(
    `DELETE FROM ${CONNECTION_MESSAGE_TABLE} WHERE instance_id = ?
     RETURNING seq::text AS seq, connection_id::text AS connection_id, topic, payload`,
    [instanceId],
  );
  return rowsOf<MessageRow>(result).sort((a, b) => (BigInt(a.seq) < BigInt(b.seq) ? -1 : 1));
}
