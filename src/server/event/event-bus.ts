/**
 * The storage-backed event bus of one instance. `notify` (in impl.ts) inserts a row and
 * sends `pg_notify(channel, id)` in the same transaction; every instance LISTENs and, on a
 * notification, reads the rows after the last id it handled and publishes each to its local
 * subscribers (per case). Rows become visible in id order (see event-log.ts), so reading
 * "id > last" never skips one, and each instance handles each event once. After a lost
 * connection the bus catches up the same way. With no local subscriber, no row is read.
 */
import { createHash } from 'node:crypto';
import { channel } from 'node:diagnostics_channel';
import { PubSub } from '../../helper/pubsub.js';
import { formatSseMessage } from '../../helper/sse.js';
import type { FusionLogger } from '../../helper/logging.js';
import type { FusionStorage } from '../storage/storage.js';
import { fetchEventsAfter, logPosition } from './event-log.js';
import type { EventRow } from './event-log.js';
import { listenToStorage } from './notification-channel.js';
import type { NotificationChannel, NotificationChannelOptions } from './notification-channel.js';

/** An event as the bus delivers it: its row, and its SSE message text (built once per instance). */
export interface BusEvent extends EventRow {
  /** `id: <id>\ndata: <document>\n\n`. */
  readonly frame: string;
}

/** One batch the bus read and fanned out, as BUS_BATCH_CHANNEL reports it (times: performance.timeOrigin + now(), ms). */
export interface BusBatchTiming {
  /** When the first notification (or poke) of this batch arrived. */
  readonly wokeAt: number;
  /** When its rows were read. */
  readonly fetchedAt: number;
  /** When every local subscriber had been handed them. */
  readonly fannedOutAt: number;
  readonly rows: number;
  /** Ids of the first and last row read (decimal; '' when none). */
  readonly firstId: string;
  readonly lastId: string;
  readonly subscribers: number;
}

/** diagnostics_channel where the bus reports each batch (BusBatchTiming); silent, and free, without subscribers. */
export const BUS_BATCH_CHANNEL = channel('fusion.event-bus.batch');

const clock = (): number => performance.timeOrigin + performance.now();

/** Receives the events of one case. */
export type BusListener = (event: BusEvent) => void;

/** Options of EventBus. */
export interface EventBusOptions {
  storage: FusionStorage;
  logger: FusionLogger;
  /** Rows read per query (default 500). */
  batchSize?: number;
  /** Listener tuning (tests shorten the reconnection delays). */
  channel?: NotificationChannelOptions;
}

/** The NOTIFY channel of a storage: per schema, so deployments sharing a database stay apart. */
export function eventChannelName(schema: string | undefined): string {
  if (!schema) return 'fusion_event';
  return `fusion_event_${createHash('sha256').update(schema).digest('hex').slice(0, 16)}`;
}

/** Builds the SSE message of an event row. */
export function toBusEvent(row: EventRow): BusEvent {
  return { ...row, frame: formatSseMessage({ id: row.id.toString(), data: row.document }) };
}

/** Listens to the storage and fans events out to this instance's subscribers. */
export class EventBus {
  /** The NOTIFY channel name. */
  readonly channel: string;
  readonly #storage: FusionStorage;
  readonly #logger: FusionLogger;
  readonly #batchSize: number;
  readonly #channelOptions: NotificationChannelOptions;
  readonly #topics: PubSub<BusEvent>;
  #listener: NotificationChannel | null = null;
  #lastSeen = 0n;
  #wanted = 0n;
  /** When the oldest notification not yet read arrived (0: none waits). */
  #wokeAt = 0;
  #catchUp = false;
  #pumping: Promise<void> | null = null;
  #closed = false;

  constructor(options: EventBusOptions) {
    this.#storage = options.storage;
    this.#logger = options.logger;
    this.#batchSize = options.batchSize ?? 500;
    this.#channelOptions = options.channel ?? {};
    this.channel = eventChannelName(options.storage.schema);
    this.#topics = new PubSub<BusEvent>({
      onError: (error, caseGuid) => this.#logger.error({ err: error, case_guid: caseGuid }, 'event bus: a subscriber threw'),
    });
  }

  /** The highest event id this instance has handled (events up to it were delivered or skipped). */
  get lastSeenId(): bigint {
    return this.#lastSeen;
  }

  /** Local subscribers (all cases). */
  get subscriberCount(): number {
    return this.#topics.count();
  }

  /** LISTENs, then starts from the newest committed id (earlier events are history, not news). */
  async start(): Promise<void> {
    this.#listener = await listenToStorage(
      this.#storage,
      this.channel,
      {
        onNotify: (payload) => this.#onNotify(payload),
        onReconnect: () => {
          this.#logger.info({ channel: this.channel }, 'event bus: listening again; catching up');
          this.#catchUp = true;
          this.#pump();
        },
        onError: (error) => this.#logger.warn({ err: error, channel: this.channel }, 'event bus: listen connection lost; reconnecting'),
      },
      this.#channelOptions,
    );
    const { maxId } = await logPosition(this.#storage.knex);
    if (maxId > this.#lastSeen) this.#lastSeen = maxId;
  }

  /** Adds a listener for the events of `caseGuid`; returns the function that removes it. */
  subscribe(caseGuid: string, listener: BusListener): () => void {
    return this.#topics.subscribe(caseGuid, listener);
  }

  /** Wakes the bus as a notification for `id` would (the notifying instance calls it after commit). */
  poke(id: bigint): void {
    if (id > this.#wanted) this.#wanted = id;
    if (this.#wokeAt === 0 && BUS_BATCH_CHANNEL.hasSubscribers) this.#wokeAt = clock();
    this.#pump();
  }

  /** Stops listening and drops the subscribers; waits for a read in progress. */
  async close(): Promise<void> {
    this.#closed = true;
    const listener = this.#listener;
    this.#listener = null;
    await listener?.close();
    await this.#pumping?.catch(() => undefined);
    this.#topics.clear();
  }

  #onNotify(payload: string): void {
    if (!/^\d{1,19}$/.test(payload)) {
      this.#logger.warn({ channel: this.channel, payload: payload.slice(0, 40) }, 'event bus: ignoring a notification that is not an event id');
      return;
    }
    this.poke(BigInt(payload));
  }

  /** Runs #drain unless it runs already (then it loops once more by itself). */
  #pump(): void {
    if (this.#pumping !== null || this.#closed) return;
    this.#pumping = this.#drain()
      .catch((error: unknown) => {
        this.#logger.error({ err: error }, 'event bus: reading new events failed; retrying on the next notification');
        this.#catchUp = true;
      })
      .finally(() => {
        this.#pumping = null;
      });
  }

  async #drain(): Promise<void> {
    while (!this.#closed && (this.#catchUp || this.#wanted > this.#lastSeen)) {
      const catchUp = this.#catchUp;
      this.#catchUp = false;
      const target = this.#wanted;
      if (this.#topics.count() === 0) {
        // Nobody listens here: skip reading, only move the mark.
        if (catchUp) {
          const { maxId } = await logPosition(this.#storage.knex);
          if (maxId > this.#lastSeen) this.#lastSeen = maxId;
        } else if (target > this.#lastSeen) {
          this.#lastSeen = target;
        }
        continue;
      }
      for (;;) {
        const wokeAt = this.#wokeAt;
        this.#wokeAt = 0;
        const rows = await fetchEventsAfter(this.#storage.knex, this.#lastSeen, this.#batchSize);
        const fetchedAt = wokeAt === 0 ? 0 : clock();
        for (const row of rows) {
          if (row.id <= this.#lastSeen) continue; // never twice, never backwards
          this.#lastSeen = row.id;
          this.#topics.publish(row.caseGuid, toBusEvent(row));
        }
        if (wokeAt !== 0 && BUS_BATCH_CHANNEL.hasSubscribers) {
          const timing: BusBatchTiming = {
            wokeAt,
            fetchedAt,
            fannedOutAt: clock(),
            rows: rows.length,
            firstId: rows[0]?.id.toString() ?? '',
            lastId: rows.at(-1)?.id.toString() ?? '',
            subscribers: this.#topics.count(),
          };
          BUS_BATCH_CHANNEL.publish(timing);
        }
        if (rows.length < this.#batchSize || this.#closed) break;
      }
      // Every id <= target is committed (or rolled back) by now: nothing below it can appear later.
      if (!catchUp && target > this.#lastSeen) this.#lastSeen = target;
    }
    // A notification of a row read already (the poke and the LISTEN of the notifying instance) woke nothing.
    this.#wokeAt = 0;
  }
}
