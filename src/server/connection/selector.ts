/** Connection selectors: which connections a delivery or a listing targets, checked, matched in memory and in SQL. */
import { KINDS } from './records.js';
import type { ConnectionKind, LocalConnection } from './records.js';

/** Which connections a delivery or a listing targets (every given field must match). */
export interface ConnectionSelector {
  readonly id?: string;
  readonly username?: string;
  readonly clientType?: string;
  readonly kind?: ConnectionKind;
}

/** A connection id (the registry's ids are UUIDs). */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True when the local connection `id` matches `selector`. */
export function matches(local: LocalConnection, id: string, selector: ConnectionSelector): boolean {
  return (
    (selector.id === undefined || selector.id === id) &&
    (selector.username === undefined || selector.username === local.username) &&
    (selector.clientType === undefined || selector.clientType === local.clientType) &&
    (selector.kind === undefined || selector.kind === local.kind)
  );
}

/** Throws a TypeError for a selector a delivery may not use (not an object, unknown kind, empty, id not a UUID). */
export function checkSelector(selector: ConnectionSelector): void {
  if (typeof selector !== 'object' || selector === null) throw new TypeError('ConnectionRegistry: a selector must be an object');
  if (selector.kind !== undefined && !KINDS.includes(selector.kind)) throw new TypeError(`ConnectionRegistry: unknown kind ${JSON.stringify(selector.kind)}`);
  if (selector.id === undefined && selector.username === undefined && selector.clientType === undefined && selector.kind === undefined) {
    throw new TypeError('ConnectionRegistry: an empty selector would target every connection; name at least one field');
  }
  if (selector.id !== undefined && !UUID.test(selector.id)) throw new TypeError(`ConnectionRegistry: a connection id is a UUID, got ${JSON.stringify(selector.id)}`);
}

/** SQL conditions (and bindings) of a selector on the connection table. */
export function whereOf(selector: ConnectionSelector): { sql: string; bindings: string[] } {
  const parts: string[] = [];
  const bindings: string[] = [];
  const add = (column: string, value: string | undefined): void => {
    if (value === undefined) return;
    parts.push(`${column} = ?`);
    bindings.push(value);
  };
  add('id', selector.id);
  add('username', selector.username);
  add('client_type', selector.clientType);
  add('kind', selector.kind);
  return { sql: parts.join(' AND '), bindings };
}
