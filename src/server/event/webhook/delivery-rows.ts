/**
 * SQL of the webhook tables (migration fusion/0004_webhook_delivery). Every time is the
 * database's `now()`, so instances with skewed clocks agree on what is due. A claimed row
 * carries its attempt number as a fencing token: completions match `id` and `attempt`, so a
 * late answer from an attempt whose lease expired cannot overwrite a newer attempt's outcome.
 */
import type { Knex } from 'knex';
import { affectedRows } from '../../storage/affected-rows.js';

/** One row per event and target URL. */
export const DELIVERY_TABLE = 'fusion_webhook_delivery';

/** Endpoints disabled by a 410 Gone or a deadline of failures. */
export const ENDPOINT_TABLE = 'fusion_webhook_endpoint';

/** The states of a delivery row. */
export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'disabled';

/** A claimed delivery: what one attempt needs. */
export interface ClaimedDelivery {
  id: string;
  eventId: string;
  webhookId: string;
  url: string;
  body: string;
  /** This attempt's number (1 = first); the fencing token of its completion. */
  attempt: number;
  createdAt: Date;
  /** Trace context of the request that caused the delivery (serializeTraceContext), or null. */
  traceContext: string | null;
}

const ms = (param = '?'): string => `(${param}::double precision * interval '1 millisecond')`;

interface ClaimRow {
  id: string | number | bigint;
  event_id: string | number | bigint;
  webhook_id: string;
  url: string;
  body: string;
  attempt: number;
  created_at: Date | string;
  trace_context: string | null;
}

/**
 * Inserts one pending delivery per URL (skipping endpoints that are disabled and pairs that
 * exist already), due now, failing after `deadlineMs`. Returns the URLs inserted.
 */
export async function insertDeliveries(
  trx: Knex | Knex.Transaction,
  delivery: { eventId: string; webhookId: string; body: string; urls: readonly string[]; deadlineMs: number; traceContext?: string | null },
): Promise<string[]> {
  if (delivery.urls.length === 0) return [];
  const result = await trx.raw<{ rows: { url: string }[] }>(
    `INSERT INTO ?? (event_id, webhook_id, url, body, attempt, next_attempt_at, deadline_at, status, created_at, updated_at, trace_context)
     SELECT ?::bigint, ?, t.url, ?, 0, now(), now() + ${ms()}, 'pending', now(), now(), ?::text
       FROM unnest(?::text[]) AS t(url)
      WHERE NOT EXISTS (SELECT 1 FROM ?? e WHERE e.url = t.url AND e.disabled_at IS NOT NULL)
     ON CONFLICT (event_id, url) DO NOTHING
     RETURNING url`,
    [DELIVERY_TABLE, delivery.eventId, delivery.webhookId, delivery.body, delivery.deadlineMs, delivery.traceContext ?? null, [...delivery.urls], ENDPOINT_TABLE],
  );
  return result.rows.map((row) => row.url);
}

/**
 * Claims up to `limit` due deliveries (`FOR UPDATE SKIP LOCKED`: rows another instance is
 * claiming are skipped, not waited for), leasing them for `leaseMs` and counting the attempt.
 */
export async function claimDue(knex: Knex, limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
  const result = await knex.raw<{ rows: ClaimRow[] }>(
    `WITH due AS (
       SELECT id FROM ?? WHERE status = 'pending' AND next_attempt_at <= now()
        ORDER BY next_attempt_at LIMIT ? FOR UPDATE SKIP LOCKED)
     UPDATE ?? d SET attempt = d.attempt + 1, next_attempt_at = now() + ${ms()}, updated_at = now()
       FROM due WHERE d.id = due.id
     RETURNING d.id, d.event_id, d.webhook_id, d.url, d.body, d.attempt, d.created_at, d.trace_context`,
    [DELIVERY_TABLE, limit, DELIVERY_TABLE, leaseMs],
  );
  return result.rows.map((row) => ({
    id: String(row.id),
    eventId: String(row.event_id),
    webhookId: row.webhook_id,
    url: row.url,
    body: row.body,
    attempt: Number(row.attempt),
    createdAt: new Date(row.created_at),
    traceContext: row.trace_context ?? null,
  }));
}

/** Marks attempt `attempt` of delivery `id` delivered; false when its lease was lost. */
export async function markDelivered(knex: Knex, id: string, attempt: number): Promise<boolean> {
  const result = await knex.raw<{ rows: unknown[] }>(
    `UPDATE ?? SET status = 'delivered', last_error = NULL, updated_at = now()
      WHERE id = ?::bigint AND attempt = ? AND status = 'pending' RETURNING id`,
    [DELIVERY_TABLE, id, attempt],
  );
  return result.rows.length > 0;
}

/**
 * After a failed attempt: due again in `delayMs`, or `failed` when that is past the deadline.
 * Returns the new status, or null when the lease was lost (another attempt owns the row).
 */
export async function markRetry(knex: Knex, id: string, attempt: number, delayMs: number, error: string): Promise<'pending' | 'failed' | null> {
  const result = await knex.raw<{ rows: { status: 'pending' | 'failed' }[] }>(
    `UPDATE ?? SET status = CASE WHEN now() + ${ms()} > deadline_at THEN 'failed' ELSE 'pending' END,
            next_attempt_at = now() + ${ms()}, last_error = ?, updated_at = now()
      WHERE id = ?::bigint AND attempt = ? AND status = 'pending' RETURNING status`,
    [DELIVERY_TABLE, delayMs, delayMs, error, id, attempt],
  );
  return result.rows[0]?.status ?? null;
}

/** Marks a delivery failed for good (a refused destination); false when the lease was lost. */
export async function markFailed(knex: Knex, id: string, attempt: number, error: string): Promise<boolean> {
  const result = await knex.raw<{ rows: unknown[] }>(
    `UPDATE ?? SET status = 'failed', last_error = ?, updated_at = now()
      WHERE id = ?::bigint AND attempt = ? AND status = 'pending' RETURNING id`,
    [DELIVERY_TABLE, error, id, attempt],
  );
  return result.rows.length > 0;
}

/** True when some delivery to `url` succeeded at or after `since`. */
export async function deliveredSince(knex: Knex, url: string, since: Date): Promise<boolean> {
  const row = await knex(DELIVERY_TABLE).where({ url, status: 'delivered' }).andWhere('updated_at', '>=', since).first('id');
  return row !== undefined;
}

/** Disables `url` and drops its pending deliveries (status `disabled`); returns how many were dropped. */
export async function disableEndpoint(knex: Knex, url: string, reason: string): Promise<number> {
  return knex.transaction(async (trx) => {
    await trx.raw(
      `INSERT INTO ?? (url, disabled_at, reason) VALUES (?, now(), ?)
       ON CONFLICT (url) DO UPDATE SET disabled_at = excluded.disabled_at, reason = excluded.reason`,
      [ENDPOINT_TABLE, url, reason],
    );
    const dropped = await trx(DELIVERY_TABLE)
      .where({ url, status: 'pending' })
      .update({ status: 'disabled', last_error: reason, updated_at: trx.fn.now() });
    return affectedRows(dropped);
  });
}

/** Enables `url` again; true when it was disabled. */
export async function enableEndpoint(knex: Knex, url: string): Promise<boolean> {
  return affectedRows(await knex(ENDPOINT_TABLE).where({ url }).delete()) > 0;
}

/** The disabled endpoints, with when and why. */
export async function disabledEndpoints(knex: Knex): Promise<{ url: string; disabledAt: Date; reason: string | null }[]> {
  const rows = await knex(ENDPOINT_TABLE).whereNotNull('disabled_at').orderBy('url').select<{ url: string; disabled_at: Date | string; reason: string | null }[]>('url', 'disabled_at', 'reason');
  return rows.map((row) => ({ url: row.url, disabledAt: new Date(row.disabled_at), reason: row.reason }));
}

/** Deletes finished deliveries (not pending) last changed more than `retentionMs` ago; returns the count. */
export async function pruneFinished(knex: Knex, retentionMs: number): Promise<number> {
  const result = await knex.raw<{ rowCount?: number; rows: unknown[] }>(
    `DELETE FROM ?? WHERE status <> 'pending' AND updated_at < now() - ${ms()}`,
    [DELIVERY_TABLE, retentionMs],
  );
  return affectedRows(result);
}
