/**
 * The contract between the event API and whatever else must see every event durably (the
 * webhook dispatcher is one): a sink writes its own rows in the transaction that inserts the
 * event row, so both commit or neither does ("write first, then signal").
 */
import type { Knex } from 'knex';
import type { Event } from '../../concept/index.js';

/** An event as stored: its row id (a bigint, as a decimal string), the event and when it was stored. */
export interface StoredEvent {
  /** `fusion_event.id` (bigserial) as a decimal string; increases in commit order. */
  readonly id: string;
  /** The event as notified (its class is the one the notifier used). */
  readonly event: Event;
  /** When the row was inserted (database clock). */
  readonly createdAt: Date;
}

/** Receives every notified event inside the inserting transaction. */
export interface EventSink {
  /**
   * Called inside the transaction that inserts the event row, before the signal: write your
   * rows with `trx` and return. A throw rolls the whole notify back (the caller sees the error).
   */
  enqueue(trx: Knex.Transaction, stored: StoredEvent): Promise<void>;
  /** Optional: called on the notifying instance once the transaction committed (wake a worker). */
  afterCommit?(stored: StoredEvent): void;
  /** Optional: called by FusionEventAPI.start(), after storage is open and migrated. */
  start?(): Promise<void>;
  /** Optional: called by FusionEventAPI.close(), before storage closes. */
  close?(): Promise<void>;
}
