/**
 * LISTEN on a storage's database. PostgreSQL: a dedicated pg.Client (never one of the knex
 * pool's), reconnecting with exponential backoff and jitter, probed periodically so a silently
 * dead connection is noticed; after each reconnection `onReconnect` runs so the caller can
 * catch up on what it missed. PGlite: the instance's own `listen()` (same process, no loss).
 *
 * The storage interface does not expose its connection; it is read from the knex client
 * knex-pglite and knex's pg dialect build (`client.pglite`, `client.config.connection`).
 */
import pg from 'pg';
import { FusionError } from '../../helper/errors.js';
import type { FusionStorage } from '../storage/storage.js';

/** What the channel reports. */
export interface NotificationHandlers {
  /** A NOTIFY on the channel, with its payload. */
  onNotify(payload: string): void;
  /** The connection was lost and is back: notifications sent meanwhile are lost, catch up. */
  onReconnect?(): void;
  /** A connection problem (logged by the caller; the channel retries by itself). */
  onError?(error: Error): void;
}

/** Tuning of the PostgreSQL listener (tests shorten it). */
export interface NotificationChannelOptions {
  /** First reconnection delay in ms (default 100), doubled per failure up to `maxDelayMs`. */
  minDelayMs?: number;
  /** Longest reconnection delay in ms (default 5000). */
  maxDelayMs?: number;
  /** Probe the listening connection every this many ms (default 30000). */
  probeMs?: number;
}

/** A LISTEN in progress; `close()` stops it. */
export interface NotificationChannel {
  /** Stops listening and closes the dedicated connection. */
  close(): Promise<void>;
}

interface PgliteLike {
  listen(channel: string, callback: (payload: string) => void): Promise<() => Promise<void>>;
  readonly closed: boolean;
}

const CHANNEL_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

function isPgliteLike(value: unknown): value is PgliteLike {
  return typeof value === 'object' && value !== null && typeof (value as { listen?: unknown }).listen === 'function';
}

/** The pg connection settings of a postgres:// storage's knex client. */
function pgConfigOf(storage: FusionStorage): pg.ClientConfig {
  const client = storage.knex.client as { config?: { connection?: unknown } };
  const connection = client.config?.connection;
  if (typeof connection === 'string') return { connectionString: connection };
  if (typeof connection === 'object' && connection !== null) return { ...(connection as pg.ClientConfig) };
  throw new FusionError('FUSION_ERR_STORAGE', 'cannot LISTEN: the storage knex client has no connection settings');
}

/** Starts listening to `channel` (a lowercase SQL identifier) on the storage's database. */
export async function listenToStorage(
  storage: FusionStorage,
  channel: string,
  handlers: NotificationHandlers,
  options: NotificationChannelOptions = {},
): Promise<NotificationChannel> {
  if (!CHANNEL_NAME.test(channel)) throw new TypeError(`listenToStorage: channel must be a lowercase identifier, got ${JSON.stringify(channel)}`);
  if (storage.kind !== 'postgres') {
    const pglite = (storage.knex.client as { pglite?: unknown }).pglite;
    if (!isPgliteLike(pglite)) throw new FusionError('FUSION_ERR_STORAGE', 'cannot LISTEN: the storage knex client holds no PGlite instance');
    const unlisten = await pglite.listen(channel, (payload) => handlers.onNotify(payload));
    return {
      close: async () => {
        if (!pglite.closed) await unlisten();
      },
    };
  }
  const listener = new PgListener(pgConfigOf(storage), channel, handlers, options);
  await listener.connect(true);
  return listener;
}

/** The PostgreSQL side: one client at a time, replaced after a failure. */
class PgListener implements NotificationChannel {
  readonly #config: pg.ClientConfig;
  readonly #channel: string;
  readonly #handlers: NotificationHandlers;
  readonly #minDelay: number;
  readonly #maxDelay: number;
  readonly #probeMs: number;
  #client: pg.Client | null = null;
  #failures = 0;
  #timer: NodeJS.Timeout | null = null;
  #probe: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(config: pg.ClientConfig, channel: string, handlers: NotificationHandlers, options: NotificationChannelOptions) {
    this.#config = { ...config, application_name: `fusion-listen:${channel}`, keepAlive: true };
    this.#channel = channel;
    this.#handlers = handlers;
    this.#minDelay = options.minDelayMs ?? 100;
    this.#maxDelay = options.maxDelayMs ?? 5000;
    this.#probeMs = options.probeMs ?? 30_000;
  }

  /** Opens a client and LISTENs; the first call throws on failure, later ones schedule a retry. */
  async connect(first: boolean): Promise<void> {
    const client = new pg.Client(this.#config);
    let lost = false;
    const onLost = (error?: Error): void => {
      if (lost) return;
      lost = true;
      if (error) this.#handlers.onError?.(error);
      if (this.#client === client) this.#client = null;
      client.end().catch(() => undefined);
      this.#scheduleReconnect();
    };
    client.on('notification', (message) => {
      if (message.channel === this.#channel) this.#handlers.onNotify(message.payload ?? '');
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${this.#channel}`);
    } catch (error) {
      lost = true;
      await client.end().catch(() => undefined);
      if (first) throw new FusionError('FUSION_ERR_STORAGE', `cannot LISTEN ${this.#channel}: ${(error as Error).message}`, { cause: error });
      this.#handlers.onError?.(error as Error);
      this.#scheduleReconnect();
      return;
    }
    if (this.#closed) {
      await client.end().catch(() => undefined);
      return;
    }
    client.on('error', (error: Error) => onLost(error));
    client.on('end', () => onLost());
    this.#client = client;
    this.#failures = 0;
    this.#startProbe();
    if (!first) this.#handlers.onReconnect?.();
  }

  /** Ends the connection; no reconnection afterwards. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#probe) clearInterval(this.#probe);
    this.#timer = null;
    this.#probe = null;
    const client = this.#client;
    this.#client = null;
    await client?.end().catch(() => undefined);
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#timer !== null) return;
    if (this.#probe) clearInterval(this.#probe);
    this.#probe = null;
    const base = Math.min(this.#maxDelay, this.#minDelay * 2 ** this.#failures);
    this.#failures++;
    const delay = base / 2 + Math.random() * (base / 2);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      if (!this.#closed) void this.connect(false);
    }, delay);
    this.#timer.unref();
  }

  #startProbe(): void {
    if (this.#probe) clearInterval(this.#probe);
    this.#probe = setInterval(() => {
      const client = this.#client;
      client?.query('SELECT 1').catch((error: unknown) => {
        client.emit('error', error instanceof Error ? error : new Error(String(error)));
      });
    }, this.#probeMs);
    this.#probe.unref();
  }
}
