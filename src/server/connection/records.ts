/** The connection rows of the registry's table, and the records and kinds it lists them as. */

/** What carries a connection. */
export type ConnectionKind = 'rpc' | 'tcp';

/** Every ConnectionKind. */
export const KINDS: readonly ConnectionKind[] = ['rpc', 'tcp'];

/** A connection as the registry lists it. */
export interface ConnectionRecord {
  readonly id: string;
  /** `host.instanceId` of the instance holding the socket. */
  readonly instanceId: string;
  readonly kind: ConnectionKind;
  /** The client's self-declared class (`rpc.hello`'s client_type), or null. */
  readonly clientType: string | null;
  /** The authenticated user, or null (an unauthenticated TCP peer). */
  readonly username: string | null;
  readonly remoteAddress: string | null;
  readonly openedAt: Date;
  /** The lease: the row is swept after this unless renewed. */
  readonly expiresAt: Date;
}

/** A connection to add. */
export interface NewConnection {
  readonly kind: ConnectionKind;
  readonly clientType?: string | null;
  readonly username?: string | null;
  readonly remoteAddress?: string | null;
  /** Default: a new UUID. */
  readonly id?: string;
}

/** What the registry keeps in memory of a connection of this instance. */
export interface LocalConnection {
  readonly kind: ConnectionKind;
  clientType: string | null;
  username: string | null;
}

/** A row of the connection table as selected. */
export interface ConnectionRow {
  id: string;
  instance_id: string;
  kind: ConnectionKind;
  client_type: string | null;
  username: string | null;
  remote_address: string | null;
  opened_at: Date | string;
  expires_at: Date | string;
}

/** The rows of a `knex.raw` result. */
export function rowsOf<T>(result: unknown): T[] {
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}

function toDate(value: Date | string): Date {
  return value instanceof Date ? value : new Date(value);
}

/** The record of a connection row. */
export function toRecord(row: ConnectionRow): ConnectionRecord {
  return {
    id: row.id,
    instanceId: row.instance_id,
    kind: row.kind,
    clientType: row.client_type,
    username: row.username,
    remoteAddress: row.remote_address,
    openedAt: toDate(row.opened_at),
    expiresAt: toDate(row.expires_at),
  };
}
