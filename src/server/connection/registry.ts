/**
 * The connection registry: a table of the live connections of every instance sharing one
 * database (RPC WebSockets, TCP gateway sockets...), and delivery of a payload to one of them,
 * or to those a selector matches, whichever instance owns the socket.
 *
 * - Each connection is a row with its instance id and a lease (`expires_at`); the instance
 *   renews the leases of its rows every heartbeat, and any instance deletes expired rows, so
 *   the connections of a crashed instance disappear within one lease.
 * - A payload for a connection of this instance goes straight to the handler registered for its
 *   kind. For another instance it is written to a row first, then a `NOTIFY` names the target
 *   instance (ids only, never payloads); that instance consumes its rows (DELETE ... RETURNING,
 *   so each is delivered once) and hands them to its handlers. After a lost LISTEN connection,
 *   and on every heartbeat, an instance also drains its rows, so a missed NOTIFY only delays.
 *
 * The registry knows nothing of WebSockets or TCP: transports register a handler per kind.
 * Records and rows (records.ts), selectors (selector.ts), handing payloads to handlers
 * (dispatcher.ts) and the message table (message-store.ts) live in their own files.
 */
import { createHash, randomUUID } from 'node:crypto';
import { FusionError } from '../../helper/errors.js';
import type { FusionLogger } from '../../helper/logging.js';
import { every } from '../../helper/timer.js';
import { listenToStorage } from '../event/notification-channel.js';
import type { NotificationChannel, NotificationChannelOptions } from '../event/notification-channel.js';
import type { FusionStorage } from '../storage/storage.js';
import { CoalescedRun } from './coalesced-run.js';
import { DeliveryDispatcher } from './dispatcher.js';
import type { ConnectionDeliveryHandler, InstanceMessageHandler } from './dispatcher.js';
import { storeForConnections, storeForInstance, takeMessages } from './message-store.js';
import { KINDS, rowsOf, toRecord } from './records.js';
import type { ConnectionKind, ConnectionRecord, ConnectionRow, LocalConnection, NewConnection } from './records.js';
import { UUID, checkSelector, matches, whereOf } from './selector.js';
import type { ConnectionSelector } from './selector.js';
import { CONNECTION_MESSAGE_TABLE, CONNECTION_TABLE } from './tables.js';

export type { ConnectionDeliveryHandler, InstanceMessageHandler } from './dispatcher.js';
export type { ConnectionKind, ConnectionRecord, NewConnection } from './records.js';
export type { ConnectionSelector } from './selector.js';

/** Options of ConnectionRegistry. */
export interface ConnectionRegistryOptions {
  storage: FusionStorage;
  /** This instance's id (`host.instanceId`). */
  instanceId: string;
  logger: FusionLogger;
  /** Seconds a row lives without renewal (default 30). */
  lease?: number;
  /** Seconds between two renewals and sweeps (default lease / 3). */
  heartbeat?: number;
  /** Tuning of the PostgreSQL LISTEN connection. */
  listen?: NotificationChannelOptions;
  /** Called with the rows this instance swept (expired leases of other instances). */
  onExpired?: (records: ConnectionRecord[]) => void;
}

/** Options of deliver. */
export interface DeliverOptions {
  /** Deliver to one connection only, preferring one of this instance (no storage round trip then). */
  readonly first?: boolean;
}

/** The NOTIFY channel of a storage's registry: per schema, so deployments sharing a database stay apart. */
export function connectionChannelName(schema: string | undefined): string {
  if (!schema) return 'fusion_connection';
  return `fusion_connection_${createHash('sha256').update(schema).digest('hex').slice(0, 16)}`;
}

/** The live connections of every instance on one storage, and delivery to them (see the file comment). */
export class ConnectionRegistry {
  /** This instance's id. */
  readonly instanceId: string;
  /** The NOTIFY channel. */
  readonly channel: string;
  readonly #storage: FusionStorage;
  readonly #logger: FusionLogger;
  readonly #lease: number;
  readonly #heartbeat: number;
  readonly #listenOptions: NotificationChannelOptions;
  readonly #onExpired: ((records: ConnectionRecord[]) => void) | undefined;
  readonly #local = new Map<string, LocalConnection>();
  readonly #dispatcher: DeliveryDispatcher;
  #listener: NotificationChannel | null = null;
  #stop: AbortController | null = null;
  #loop: Promise<void> | null = null;
  #started = false;
  #closed = false;
  readonly #drainer = new CoalescedRun(
    () => this.#drain(),
    (error) => this.#logger.error({ err: error }, 'connection registry: reading payloads failed; retrying on the next heartbeat'),
  );

  constructor(options: ConnectionRegistryOptions) {
    if (typeof options.instanceId !== 'string' || options.instanceId === '') throw new TypeError('ConnectionRegistry: instanceId must be a non-empty string');
    const lease = options.lease ?? 30;
    if (!(lease > 0)) throw new RangeError(`ConnectionRegistry: lease must be > 0 seconds, got ${lease}`);
    const heartbeat = options.heartbeat ?? lease / 3;
    if (!(heartbeat > 0) || heartbeat >= lease) throw new RangeError(`ConnectionRegistry: heartbeat must be > 0 and < lease (${lease} s), got ${heartbeat}`);
    this.#storage = options.storage;
    this.instanceId = options.instanceId;
    this.#logger = options.logger;
    this.#lease = lease;
    this.#heartbeat = heartbeat;
    this.#listenOptions = options.listen ?? {};
    this.#onExpired = options.onExpired;
    this.channel = connectionChannelName(options.storage.schema);
    this.#dispatcher = new DeliveryDispatcher(options.logger, this.#local);
  }

  /** Lease length in seconds. */
  get lease(): number {
    return this.#lease;
  }

  /** Connections of this instance. */
  get localCount(): number {
    return this.#local.size;
  }

  /** LISTENs, drains what waits for this instance, starts the heartbeat (the storage is migrated: its tables are framework migrations). */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#listener = await listenToStorage(
      this.#storage,
      this.channel,
      {
        onNotify: (payload) => {
          if (payload === this.instanceId) this.#drainer.request();
        },
        onReconnect: () => this.#drainer.request(),
        onError: (error) => this.#logger.warn({ err: error, channel: this.channel }, 'connection registry: listen connection lost; reconnecting'),
      },
      this.#listenOptions,
    );
    this.#started = true;
    this.#stop = new AbortController();
    this.#loop = every(this.#heartbeat * 1000, () => this.heartbeat(), {
      signal: this.#stop.signal,
      onError: (error) => this.#logger.warn({ err: error }, 'connection registry: heartbeat failed'),
    });
    this.#drainer.request();
  }

  /**
   * Stops the heartbeat and LISTEN, then deletes this instance's rows and pending payloads
   * (callers close their sockets first). An instance that dies without closing is swept instead.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stop?.abort();
    await this.#loop?.catch(() => undefined);
    const listener = this.#listener;
    this.#listener = null;
    await listener?.close();
    await this.#drainer.stop();
    this.#local.clear();
    this.#dispatcher.clear();
    if (!this.#started) return;
    try {
      await this.#storage.knex.raw(`DELETE FROM ${CONNECTION_TABLE} WHERE instance_id = ?`, [this.instanceId]);
      await this.#storage.knex.raw(`DELETE FROM ${CONNECTION_MESSAGE_TABLE} WHERE instance_id = ?`, [this.instanceId]);
    } catch (error) {
      this.#logger.warn({ err: error }, 'connection registry: removing this instance rows failed (they expire with their lease)');
    }
  }

  /** Installs the function that delivers payloads to this instance's connections of `kind`; returns its remover. */
  handle(kind: ConnectionKind, handler: ConnectionDeliveryHandler): () => void {
    return this.#dispatcher.handle(kind, handler);
  }

  /** Installs the receiver of `sendToInstance(…, topic, …)` payloads; returns its remover. */
  handleInstance(topic: string, handler: InstanceMessageHandler): () => void {
    return this.#dispatcher.handleInstance(topic, handler);
  }

  /** Records a connection of this instance; returns its id. */
  async add(connection: NewConnection): Promise<string> {
    this.#assertStarted();
    if (!KINDS.includes(connection.kind)) throw new TypeError(`ConnectionRegistry.add: unknown kind ${JSON.stringify(connection.kind)}`);
    const id = connection.id ?? randomUUID();
    const local: LocalConnection = { kind: connection.kind, clientType: connection.clientType ?? null, username: connection.username ?? null };
    this.#local.set(id, local);
    try {
      await this.#storage.knex.raw(
        `INSERT INTO ${CONNECTION_TABLE} (id, instance_id, kind, client_type, username, remote_address, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, now() + (?::float8 * interval '1 second'))`,
        [id, this.instanceId, local.kind, local.clientType, local.username, connection.remoteAddress ?? null, this.#lease],
      );
    } catch (error) {
      this.#local.delete(id);
      throw error;
    }
    return id;
  }

  /** Changes the client type or username of a connection of this instance (after a handshake). */
  async update(id: string, patch: { clientType?: string | null; username?: string | null }): Promise<void> {
    const local = this.#local.get(id);
    if (local === undefined) throw new FusionError('FUSION_ERR_NOT_FOUND', `connection ${id} is not one of this instance`);
    if (patch.clientType !== undefined) local.clientType = patch.clientType;
    if (patch.username !== undefined) local.username = patch.username;
    await this.#storage.knex.raw(`UPDATE ${CONNECTION_TABLE} SET client_type = ?, username = ? WHERE id = ?`, [local.clientType, local.username, id]);
  }

  /** Removes a connection of this instance (its socket closed). */
  async remove(id: string): Promise<void> {
    if (!this.#local.delete(id)) return;
    await this.#storage.knex.raw(`DELETE FROM ${CONNECTION_TABLE} WHERE id = ?`, [id]);
  }

  /** True when `id` is a connection of this instance. */
  isLocal(id: string): boolean {
    return this.#local.has(id);
  }

  /** Live connections (lease not expired) of every instance matching `selector`, oldest first. */
  async list(selector: ConnectionSelector = {}): Promise<ConnectionRecord[]> {
    if (selector.id !== undefined && !UUID.test(selector.id)) return [];
    const where = whereOf(selector);
    const result = await this.#storage.knex.raw(
      `SELECT id::text AS id, instance_id, kind, client_type, username, remote_address, opened_at, expires_at
         FROM ${CONNECTION_TABLE} WHERE expires_at > now() ${where.sql ? `AND ${where.sql}` : ''} ORDER BY opened_at, id`,
      where.bindings,
    );
    return rowsOf<ConnectionRow>(result).map(toRecord);
  }

  /**
   * Delivers `payload` (JSON data) to the connection `target` (an id) or to every live
   * connection the selector matches, on whichever instance; returns the ids it was routed to
   * (empty: nobody matched). Remote payloads are stored before their NOTIFY is sent.
   */
  async deliver(target: string | ConnectionSelector, payload: unknown, options: DeliverOptions = {}): Promise<string[]> {
    this.#assertStarted();
    const selector: ConnectionSelector = typeof target === 'string' ? { id: target } : target;
    checkSelector(selector);
    const text = JSON.stringify(payload);
    if (text === undefined) throw new TypeError('ConnectionRegistry.deliver: payload must be JSON data');
    const localIds = [...this.#local].filter(([id, local]) => matches(local, id, selector)).map(([id]) => id);
    if (options.first && localIds.length > 0) {
      this.#deliverLocal(localIds[0]!, text);
      return [localIds[0]!];
    }
    const remote = await storeForConnections(this.#storage, this.channel, this.instanceId, selector, text, options.first === true);
    for (const id of localIds) this.#deliverLocal(id, text);
    return [...localIds, ...remote];
  }

  /** Sends `payload` to the handler of `topic` on instance `instanceId` (this one included). */
  async sendToInstance(instanceId: string, topic: string, payload: unknown): Promise<void> {
    this.#assertStarted();
    const text = JSON.stringify(payload);
    if (text === undefined) throw new TypeError('ConnectionRegistry.sendToInstance: payload must be JSON data');
    if (instanceId === this.instanceId) {
      this.#dispatcher.dispatch({ seq: '0', connection_id: null, topic, payload: text });
      return;
    }
    await storeForInstance(this.#storage, this.channel, instanceId, topic, text);
  }

  /** Renews this instance's leases (re-inserting rows swept meanwhile), sweeps expired rows, drains. */
  async heartbeat(): Promise<void> {
    if (this.#closed || !this.#started) return;
    const knex = this.#storage.knex;
    if (this.#local.size > 0) {
      const result = await knex.raw(
        `UPDATE ${CONNECTION_TABLE} SET expires_at = now() + (?::float8 * interval '1 second') WHERE instance_id = ? RETURNING id::text AS id`,
        [this.#lease, this.instanceId],
      );
      const renewed = new Set(rowsOf<{ id: string }>(result).map((row) => row.id));
      for (const [id, local] of this.#local) {
        if (renewed.has(id)) continue;
        // This instance stalled longer than a lease and was swept: it is alive, so it comes back.
        await knex.raw(
          `INSERT INTO ${CONNECTION_TABLE} (id, instance_id, kind, client_type, username, expires_at)
           VALUES (?, ?, ?, ?, ?, now() + (?::float8 * interval '1 second')) ON CONFLICT (id) DO NOTHING`,
          [id, this.instanceId, local.kind, local.clientType, local.username, this.#lease],
        );
      }
    }
    const swept = await this.sweep();
    if (swept.length > 0) this.#onExpired?.(swept);
    this.#drainer.request();
  }

  /** Deletes expired rows of any instance (and payloads nobody consumed within a lease); returns the connections swept. */
  async sweep(): Promise<ConnectionRecord[]> {
    const knex = this.#storage.knex;
    const result = await knex.raw(
      `DELETE FROM ${CONNECTION_TABLE} WHERE expires_at <= now()
       RETURNING id::text AS id, instance_id, kind, client_type, username, remote_address, opened_at, expires_at`,
    );
    await knex.raw(`DELETE FROM ${CONNECTION_MESSAGE_TABLE} WHERE created_at < now() - (?::float8 * interval '1 second')`, [this.#lease]);
    return rowsOf<ConnectionRow>(result).map(toRecord);
  }

  #deliverLocal(connectionId: string, text: string): void {
    this.#dispatcher.dispatch({ seq: '0', connection_id: connectionId, topic: '', payload: text });
  }

  /** Runs #drain unless it runs already (then it runs once more after). */
  async #drain(): Promise<void> {
    for (const row of await takeMessages(this.#storage, this.instanceId)) this.#dispatcher.dispatch(row);
  }

  #assertStarted(): void {
    if (!this.#started || this.#closed) throw new FusionError('FUSION_ERR_UNAVAILABLE', 'the connection registry is not running: call start() first (or it was closed)');
  }
}
