/**
 * Channels across instances. `broadcast` stores the message (id from one sequence, taken while
 * holding the channel row, so per channel ids commit in increasing order) and NOTIFYs its id;
 * each instance with local members of that channel (a "room", dropped when its last local
 * member leaves) reads the rows after the last id it delivered there, in order. A member joins
 * with `since`: rows after it are replayed, then live messages follow with no gap and no
 * duplicate (live ones arriving during the replay wait in a buffer); when `since` is behind
 * the channel's prune horizon the member gets a reset instead. Each message keeps the trace
 * context active when it was broadcast, sent along so members continue that trace.
 */
import { createHash } from 'node:crypto';
import type { FusionLogger } from '../../helper/logging.js';
import { deserializeTraceCarrier, serializeTraceContext } from '../../helper/telemetry.js';
import type { TraceCarrier } from '../../helper/telemetry.js';
import { listenToStorage } from '../event/notification-channel.js';
import type { NotificationChannel, NotificationChannelOptions } from '../event/notification-channel.js';
import type { FusionStorage } from '../storage/storage.js';
import { CoalescedRun } from '../connection/coalesced-run.js';
import { CONNECTION_TABLE } from '../connection/tables.js';
import { CHANNEL_MEMBER_TABLE, CHANNEL_MESSAGE_TABLE, CHANNEL_TABLE } from './tables.js';

/** A local subscriber (an RPC connection) as the hub sees it. */
export interface ChannelSubscriber {
  readonly connectionId: string;
  /** Sends `rpc.message` (`trace`: the broadcast's trace context, when it had one). */
  message(channel: string, id: number, data: unknown, trace?: TraceCarrier | null): void;
  /** Sends `rpc.reset` (messages after `since` were pruned; live ones follow from `lastId`). */
  reset(channel: string, lastId: number): void;
}

/** What a join answers. */
export interface JoinResult {
  /** Usernames of the channel's members on every instance, sorted. */
  members: string[];
  /** The id the member stands at: it receives every later message. */
  last_id: number;
}

interface Membership {
  lastSent: number;
  buffer: Delivered[] | null;
}

/** A message as read back from storage. */
interface Delivered {
  id: number;
  data: unknown;
  trace: TraceCarrier | null;
}

interface Room {
  lastId: number;
  members: Map<ChannelSubscriber, Membership>;
}

/** The most rows a `since` replay sends; further back, the member gets a reset. */
export const MAX_REPLAY = 10_000;

function rowsOf<T>(result: unknown): T[] {
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}

/** The NOTIFY channel of the hub (per schema). */
export function channelNotifyName(schema: string | undefined): string {
  if (!schema) return 'fusion_rpc';
  return `fusion_rpc_${createHash('sha256').update(schema).digest('hex').slice(0, 16)}`;
}

/** Storage-backed channels (see the file comment). */
export class ChannelHub {
  readonly #storage: FusionStorage;
  readonly #logger: FusionLogger;
  readonly #listenOptions: NotificationChannelOptions;
  readonly #notifyName: string;
  readonly #rooms = new Map<string, Room>();
  #listener: NotificationChannel | null = null;
  readonly #drainer = new CoalescedRun(
    () => this.#drain(),
    (error) => this.#logger.error({ err: error }, 'rpc channels: reading messages failed; retrying on the next one'),
  );

  constructor(options: { storage: FusionStorage; logger: FusionLogger; listen?: NotificationChannelOptions }) {
    this.#storage = options.storage;
    this.#logger = options.logger;
    this.#listenOptions = options.listen ?? {};
    this.#notifyName = channelNotifyName(options.storage.schema);
  }

  /** Rooms open on this instance (channels with local members). */
  get roomCount(): number {
    return this.#rooms.size;
  }

  /** LISTENs for new messages. */
  async start(): Promise<void> {
    this.#listener = await listenToStorage(
      this.#storage,
      this.#notifyName,
      {
        onNotify: () => this.#drainer.request(),
        onReconnect: () => this.#drainer.request(),
        onError: (error) => this.#logger.warn({ err: error }, 'rpc channels: listen connection lost; reconnecting'),
      },
      this.#listenOptions,
    );
  }

  /** Stops listening and drops the rooms. */
  async close(): Promise<void> {
    const listener = this.#listener;
    this.#listener = null;
    await listener?.close();
    await this.#drainer.stop();
    this.#rooms.clear();
  }

  /** Stores `data` (JSON) in `channel` and signals it; returns its id. Members on every instance receive it once. */
  async broadcast(channel: string, data: unknown): Promise<number> {
    const text = JSON.stringify(data);
    if (text === undefined) throw new TypeError('broadcast: data must be JSON data');
    const trace = serializeTraceContext();
    const id = await this.#storage.knex.transaction(async (trx) => {
      await trx.raw(`INSERT INTO ${CHANNEL_TABLE} (name) VALUES (?) ON CONFLICT (name) DO UPDATE SET pruned_through = ${CHANNEL_TABLE}.pruned_through`, [channel]);
      const inserted = rowsOf<{ id: string }>(await trx.raw(`INSERT INTO ${CHANNEL_MESSAGE_TABLE} (channel, data, trace_context) VALUES (?, ?, ?) RETURNING id::text AS id`, [channel, text, trace]));
      await trx.raw('SELECT pg_notify(?, ?)', [this.#notifyName, inserted[0]!.id]);
      return Number(inserted[0]!.id);
    });
    if (this.#rooms.has(channel)) this.#drainer.request();
    return id;
  }

  /**
   * Adds `subscriber` (connection of `username`) to `channel`: member row, local room, replay
   * after `since` (or a reset when too old), then live messages. Joining twice is harmless.
   */
  async join(channel: string, subscriber: ChannelSubscriber, username: string | null, since: number | null): Promise<JoinResult> {
    await this.addMember(channel, subscriber.connectionId, username);
    let room = this.#rooms.get(channel);
    if (room === undefined) {
      room = { lastId: Number.MAX_SAFE_INTEGER, members: new Map() };
      this.#rooms.set(channel, room);
    }
    const membership: Membership = room.members.get(subscriber) ?? { lastSent: 0, buffer: [] };
    membership.buffer ??= [];
    room.members.set(subscriber, membership);
    try {
      const position = await this.#position(channel);
      if (room.lastId === Number.MAX_SAFE_INTEGER) {
        // A new room starts at the newest id: messages committed before it are history (replayed on request).
        room.lastId = position.maxId;
        this.#drainer.request();
      }
      let lastSent = position.maxId;
      if (since !== null) {
        if (since < position.prunedThrough || position.maxId - since > MAX_REPLAY * 4) {
          subscriber.reset(channel, position.maxId);
        } else {
          const rows = await this.#replay(channel, since, position.maxId);
          if (rows === null) subscriber.reset(channel, position.maxId);
          else for (const row of rows) subscriber.message(channel, row.id, row.data, row.trace);
        }
      }
      lastSent = Math.max(lastSent, membership.lastSent);
      const members = await this.presence(channel);
      const buffered = membership.buffer ?? [];
      membership.lastSent = lastSent;
      membership.buffer = null;
      // Live messages that came during the replay, minus those it covered.
      for (const item of buffered) this.#send(channel, subscriber, membership, item);
      return { members, last_id: lastSent };
    } catch (error) {
      await this.leave(channel, subscriber).catch(() => undefined);
      throw error;
    }
  }

  /** Removes `subscriber` from `channel` (the room closes when it was the last local member). */
  async leave(channel: string, subscriber: ChannelSubscriber): Promise<boolean> {
    const room = this.#rooms.get(channel);
    const was = room?.members.delete(subscriber) ?? false;
    if (room !== undefined && room.members.size === 0) this.#rooms.delete(channel);
    await this.removeMember(channel, subscriber.connectionId);
    return was;
  }

  /** Records a member (for presence) without a room: channels whose messages come from elsewhere (case events). */
  async addMember(channel: string, connectionId: string, username: string | null): Promise<void> {
    await this.#storage.knex.raw(`INSERT INTO ${CHANNEL_MEMBER_TABLE} (channel, connection_id, username) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, [channel, connectionId, username]);
  }

  /** Deletes a member row. */
  async removeMember(channel: string, connectionId: string): Promise<void> {
    await this.#storage.knex.raw(`DELETE FROM ${CHANNEL_MEMBER_TABLE} WHERE channel = ? AND connection_id = ?`, [channel, connectionId]);
  }

  /** Removes `subscriber` from every local room (its connection closed; its member rows go with its connection row). */
  forget(subscriber: ChannelSubscriber): void {
    for (const [channel, room] of this.#rooms) {
      room.members.delete(subscriber);
      if (room.members.size === 0) this.#rooms.delete(channel);
    }
  }

  /** Usernames of the live members of `channel` on every instance, sorted. */
  async presence(channel: string): Promise<string[]> {
    const result = await this.#storage.knex.raw(
      `SELECT DISTINCT m.username FROM ${CHANNEL_MEMBER_TABLE} m JOIN ${CONNECTION_TABLE} c ON c.id = m.connection_id
        WHERE m.channel = ? AND c.expires_at > now() AND m.username IS NOT NULL ORDER BY m.username`,
      [channel],
    );
    return rowsOf<{ username: string }>(result).map((row) => row.username);
  }

  /** Deletes messages older than `retentionSeconds`, raising each channel's horizon first; returns how many went. */
  async prune(retentionSeconds: number): Promise<number> {
    const knex = this.#storage.knex;
    await knex.raw(
      `UPDATE ${CHANNEL_TABLE} c SET pruned_through = greatest(c.pruned_through, old.id)
         FROM (SELECT channel, max(id) AS id FROM ${CHANNEL_MESSAGE_TABLE} WHERE created_at < now() - (?::float8 * interval '1 second') GROUP BY channel) old
        WHERE c.name = old.channel`,
      [retentionSeconds],
    );
    const result = await knex.raw(
      `DELETE FROM ${CHANNEL_MESSAGE_TABLE} m USING ${CHANNEL_TABLE} c WHERE m.channel = c.name AND m.id <= c.pruned_through RETURNING m.id`,
    );
    return rowsOf(result).length;
  }

  async #position(channel: string): Promise<{ maxId: number; prunedThrough: number }> {
    const result = await this.#storage.knex.raw(
      `SELECT coalesce((SELECT pruned_through FROM ${CHANNEL_TABLE} WHERE name = ?), 0)::text AS pruned,
              coalesce((SELECT max(id) FROM ${CHANNEL_MESSAGE_TABLE} WHERE channel = ?), 0)::text AS max_id`,
      [channel, channel],
    );
    const row = rowsOf<{ pruned: string; max_id: string }>(result)[0]!;
    return { maxId: Number(row.max_id), prunedThrough: Number(row.pruned) };
  }

  /** Rows of `channel` in (since, through], or null when there are more than MAX_REPLAY. */
  async #replay(channel: string, since: number, through: number): Promise<Delivered[] | null> {
    const result = await this.#storage.knex.raw(
      `SELECT id::text AS id, data, trace_context FROM ${CHANNEL_MESSAGE_TABLE} WHERE channel = ? AND id > ? AND id <= ? ORDER BY id LIMIT ?`,
      [channel, since, through, MAX_REPLAY + 1],
    );
    const rows = rowsOf<{ id: string; data: string; trace_context: string | null }>(result);
    if (rows.length > MAX_REPLAY) return null;
    return rows.map((row) => ({ id: Number(row.id), data: JSON.parse(row.data) as unknown, trace: deserializeTraceCarrier(row.trace_context) }));
  }

  #send(channel: string, subscriber: ChannelSubscriber, membership: Membership, message: Delivered): void {
    if (membership.buffer !== null) {
      membership.buffer.push(message);
      return;
    }
    if (message.id <= membership.lastSent) return; // replayed already
    membership.lastSent = message.id;
    try {
      subscriber.message(channel, message.id, message.data, message.trace);
    } catch (error) {
      this.#logger.warn({ err: error, channel }, 'rpc channels: sending to a member failed');
    }
  }

  async #drain(): Promise<void> {
    const rooms = [...this.#rooms].filter(([, room]) => room.lastId !== Number.MAX_SAFE_INTEGER);
    if (rooms.length === 0) return;
    const result = await this.#storage.knex.raw(
      `SELECT m.id::text AS id, m.channel, m.data, m.trace_context FROM ${CHANNEL_MESSAGE_TABLE} m
         JOIN unnest(?::text[], ?::bigint[]) AS r(channel, last) ON m.channel = r.channel AND m.id > r.last
        ORDER BY m.id`,
      [rooms.map(([channel]) => channel), rooms.map(([, room]) => String(room.lastId))],
    );
    for (const row of rowsOf<{ id: string; channel: string; data: string; trace_context: string | null }>(result)) {
      const room = this.#rooms.get(row.channel);
      const id = Number(row.id);
      if (room === undefined || id <= room.lastId) continue;
      room.lastId = id;
      const message: Delivered = { id, data: JSON.parse(row.data) as unknown, trace: deserializeTraceCarrier(row.trace_context) };
      for (const [subscriber, membership] of room.members) this.#send(row.channel, subscriber, membership, message);
    }
  }
}
