/**
 * One-use upgrade tickets for browsers (which cannot set headers on a WebSocket): `POST
 * /api/rpc/ticket`, authenticated like any route, stores the credential headers of that
 * request under sha256(ticket) for 30 s; `GET /api/rpc?ticket=...` consumes the row (on any
 * instance) and authenticates the upgrade with those headers, so the connection is exactly
 * as authorized as the request that asked for the ticket.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { FusionStorage } from '../storage/storage.js';
import { TICKET_TABLE } from './tables.js';

/** Seconds a ticket stays valid. */
export const TICKET_TTL_SECONDS = 30;

/** The headers that carry credentials (copied into tickets, replayed by built-in methods). */
export const CREDENTIAL_HEADERS = ['x-fusion-api-token', 'cookie', 'authorization'] as const;

function hashOf(ticket: string): string {
  return createHash('sha256').update(ticket).digest('hex');
}

/** The credential headers of a request. */
export function credentialHeaders(request: FastifyRequest): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of CREDENTIAL_HEADERS) {
    const value = request.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  return headers;
}

/** Stores a new ticket for the credentials of `request`; returns it. */
export async function issueTicket(storage: FusionStorage, request: FastifyRequest): Promise<string> {
  const ticket = randomBytes(24).toString('base64url');
  await storage.knex.raw(`DELETE FROM ${TICKET_TABLE} WHERE expires_at <= now()`);
  await storage.knex.raw(
    `INSERT INTO ${TICKET_TABLE} (hash, headers, expires_at) VALUES (?, ?::jsonb, now() + (?::float8 * interval '1 second'))`,
    [hashOf(ticket), JSON.stringify(credentialHeaders(request)), TICKET_TTL_SECONDS],
  );
  return ticket;
}

/** Consumes a ticket: its credential headers, or null when unknown, used or expired. */
export async function redeemTicket(storage: FusionStorage, ticket: string): Promise<Record<string, string> | null> {
  const result = await storage.knex.raw(`DELETE FROM ${TICKET_TABLE} WHERE hash = ? RETURNING headers, expires_at > now() AS valid`, [hashOf(ticket)]);
  const row = ((result as { rows?: { headers: unknown; valid: boolean }[] }).rows ?? [])[0];
  if (row === undefined || !row.valid) return null;
  const headers = typeof row.headers === 'string' ? (JSON.parse(row.headers) as Record<string, string>) : (row.headers as Record<string, string>);
  return headers;
}
