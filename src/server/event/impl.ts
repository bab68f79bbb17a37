/**
 * FusionEventAPI: `notify(category, case, ext)` stores an event and signals it; every
 * instance on the same storage delivers it to its SSE subscribers of that case
 * (GET /api/events/case/:case_guid, resumable with Last-Event-ID) and the webhook
 * dispatcher delivers it to the configured URLs. See docs/events.md.
 */
import type { FastifyInstance } from 'fastify';
import type { Knex } from 'knex';
import { Case, Event } from '../../concept/index.js';
import type { Identity } from '../../concept/index.js';
import { FusionError } from '../../helper/errors.js';
import { every } from '../../helper/timer.js';
import { FusionAPI } from '../api.js';
import type { EventNotifier, FusionHost } from '../host.js';
import { advisoryLockId } from '../storage/advisory-lock.js';
import { stillAllowedAfter } from './case-access.js';
import type { CaseAccessCache } from './case-access.js';
import { openCaseStream } from './case-stream.js';
import { readEventConfig } from './config.js';
import type { FusionEventConfig } from './config.js';
import { EventBus } from './event-bus.js';
import { withNotifySpan } from './notify-span.js';
import type { BusEvent } from './event-bus.js';
import { appendEvent } from './event-log.js';
import type { EventSink, StoredEvent } from './event-sink.js';
import type { NotificationChannelOptions } from './notification-channel.js';
import { Presence } from './presence.js';
import { pruneOnce } from './prune-task.js';
import type { PruneResult } from './prune-task.js';
import type { SseStream } from './sse-stream.js';
import { StreamQuota } from './stream-quota.js';
import { createWebhookDispatcher, validateWebhookUrl } from './webhook/index.js';
import { caseWebhookSecrets } from './webhook/case-webhook-secrets.js';

/** An Event class (Event or a subclass) the API builds its events with. */
export interface EventClass<E extends Event = Event> {
  new (input: never): E;
  readonly conceptName: string;
}

/** Options of FusionEventAPI. */
export interface FusionEventAPIOptions<E extends Event = Event> {
  /** The parsed `event` section; default: the server's `event` section (defaults when absent). */
  config?: FusionEventConfig;
  /** Class of the events built by notify (default Event). */
  eventClass?: EventClass<E>;
  /** More sinks (each sees every event inside its transaction). */
  sinks?: EventSink[];
  /** Deliver webhooks (default true: the dispatcher is a sink built from the config's webhook keys). */
  webhooks?: boolean;
  /** Tuning of the PostgreSQL LISTEN connection (reconnection delays, probe interval). */
  listen?: NotificationChannelOptions;
}

/** Options of notify. */
export interface NotifyOptions {
  /** Run inside this transaction (the event commits with your own writes; the append lock is held until then). */
  trx?: Knex.Transaction;
}

const SHUTDOWN_GRACE_MS = 2000;

/** Stores, signals and streams events (see the file comment). */
export class FusionEventAPI<E extends Event = Event> extends FusionAPI implements EventNotifier {
  /** The API name. */
  readonly name: string = 'event';
  readonly #options: FusionEventAPIOptions<E>;
  readonly #eventClass: EventClass<E>;
  readonly #streams = new Map<SseStream, Promise<void>>();
  readonly #accessCache: CaseAccessCache = new WeakMap();
  #sinks: EventSink[] = [];
  #config: FusionEventConfig | null = null;
  #server: FusionHost | null = null;
  #source = 'fusion';
  #bus: EventBus | null = null;
  #presence: Presence | null = null;
  #quota: StreamQuota | null = null;
  #stop: AbortController | null = null;
  #loops: Promise<void>[] = [];
  #keepalive: NodeJS.Timeout | null = null;

  constructor(options: FusionEventAPIOptions<E> = {}) {
    super();
    if (typeof options !== 'object' || options === null) throw new TypeError('FusionEventAPI: options must be an object');
    if (options.eventClass !== undefined && !(options.eventClass === (Event as unknown) || options.eventClass.prototype instanceof Event)) {
      throw new TypeError('FusionEventAPI: options.eventClass must be Event or a subclass');
    }
    if (options.sinks !== undefined && (!Array.isArray(options.sinks) || options.sinks.some((sink) => typeof sink?.enqueue !== 'function'))) {
      throw new TypeError('FusionEventAPI: options.sinks must be a list of EventSink (objects with enqueue(trx, stored))');
    }
    this.#options = { ...options };
    this.#eventClass = options.eventClass ?? (Event as unknown as EventClass<E>);
  }

  /** The settings in force (after setup). */
  get config(): FusionEventConfig {
    if (this.#config === null) throw new Error('FusionEventAPI: config is available once the API is set up');
    return this.#config;
  }

  /** Throws FUSION_ERR_WEBHOOK_URL / FUSION_ERR_WEBHOOK_REFUSED for the first URL deliveries would refuse. */
  checkWebhookUrls(urls: readonly string[]): void {
    for (const url of urls) validateWebhookUrl(url, this.config.webhook);
  }

  /** Open SSE streams on this instance. */
  get streamCount(): number {
    return this.#streams.size;
  }

  /** Reads the config, builds the sinks, installs itself as the server's event notifier, adds the SSE route. */
  setup(app: FastifyInstance, server: FusionHost): void {
    this.#server = server;
    const config = this.#options.config ?? readEventConfig(server.config.raw.event ?? {}, { baseDir: server.config.baseDir });
    this.#config = config;
    this.#source = config.source ?? server.config.info?.api ?? 'fusion';
    this.#sinks = [...(this.#options.sinks ?? [])];
    if (this.#options.webhooks !== false) this.#sinks.push(createWebhookDispatcher(config.webhook, server));
    server.setEventNotifier(this);
    server.route(
      app,
      {
        method: 'GET',
        url: '/api/events/case/:case_guid',
        operation: 'subscribe',
        params: ['case_guid'],
        query: { type: 'object', properties: { last_event_id: { type: 'string', description: 'resume after this event id (or send Last-Event-ID)' } } },
        headers: { 'Last-Event-ID': { type: 'string', description: 'resume after this event id (EventSource sends it when it reconnects)' } },
        produces: 'text/event-stream',
        errors: ['FUSION_ERR_UNAVAILABLE'],
        summary: 'Events of a case as Server-Sent Events (text/event-stream), resumable with Last-Event-ID',
      },
      (ctx) => openCaseStream(ctx, this.#streamDeps()),
    );
    server.route(
      app,
      {
        method: 'GET',
        url: '/api/events/case/:case_guid/webhooks',
        operation: 'update_case',
        params: ['case_guid'],
        summary: "The signing secrets of the case's webhooks (for those allowed to update the case)",
        description: 'Each URL the case lists, whether it is a trusted destination (signed with the operator secrets, not shown) and otherwise its own whsec_ secrets.',
      },
      (ctx) => caseWebhookSecrets(config.webhook, ctx.case!.guid, ctx.case!.webhooks),
    );
    app.addHook('preClose', async () => {
      await this.#endStreams();
    });
  }

  /** Starts the bus (LISTEN), the sinks, the presence heartbeat, the keep-alive pings and the prune task. */
  override async start(server: FusionHost): Promise<void> {
    const config = this.config;
    this.#bus = new EventBus({ storage: server.storage, logger: server.logger, ...(this.#options.listen ? { channel: this.#options.listen } : {}) });
    await this.#bus.start();
    this.#presence = new Presence(server.storage, config.presenceTtl, {
      grace: config.presenceGrace,
      onError: (error) => server.logger.warn({ err: error }, 'event API: a delayed presence leave failed (the row expires by itself)'),
    });
    this.#quota = new StreamQuota(config.maxStreamsPerIdentity);
    for (const sink of this.#sinks) await sink.start?.();
    const stop = new AbortController();
    this.#stop = stop;
    const onError = (what: string) => (error: unknown) => server.logger.warn({ err: error }, `event API: ${what} failed`);
    this.#loops = [
      every((config.presenceTtl * 1000) / 3, () => this.#presence?.heartbeat(), { signal: stop.signal, onError: onError('presence heartbeat') }),
      every(config.pruneInterval * 1000, () => this.prune(), { signal: stop.signal, onError: onError('prune') }),
    ];
    this.#keepalive = setInterval(() => {
      for (const stream of this.#streams.keys()) stream.ping();
    }, config.keepalive * 1000);
    this.#keepalive.unref();
  }

  /** Ends the streams left, stops the timers, the bus and the sinks; drops this instance's presence. */
  override async close(): Promise<void> {
    this.#stop?.abort();
    if (this.#keepalive) clearInterval(this.#keepalive);
    this.#keepalive = null;
    await this.#endStreams();
    await Promise.allSettled(this.#loops);
    this.#loops = [];
    try {
      await this.#presence?.flush(); // leaves still in their grace: their `unsubscribe` is written now
      await this.#presence?.clear();
    } catch (error) {
      this.#server?.logger.warn({ err: error }, 'event API: clearing presence failed (rows expire by themselves)');
    }
    await this.#bus?.close();
    this.#bus = null;
    for (const sink of [...this.#sinks].reverse()) {
      try {
        await sink.close?.();
      } catch (error) {
        this.#server?.logger.error({ err: error }, 'event API: closing a sink failed');
      }
    }
  }

  /**
   * Stores the event `category` about `caseObj` and hands it to the sinks, in one transaction,
   * then signals it: subscribers on every instance receive it once. Returns the stored event.
   */
  notify(category: string, caseObj: Case, ext: Record<string, unknown> | null = null, options: NotifyOptions = {}): Promise<StoredEvent> {
    return withNotifySpan(category, caseObj, () => this.#notify(category, caseObj, ext, options));
  }

  async #notify(category: string, caseObj: Case, ext: Record<string, unknown> | null, options: NotifyOptions): Promise<StoredEvent> {
    const server = this.#started();
    if (typeof category !== 'string' || category === '') throw new TypeError('FusionEventAPI.notify: category must be a non-empty string');
    if (!(caseObj instanceof Case)) throw new TypeError('FusionEventAPI.notify: caseObj must be a Case (or a subclass instance)');
    const event = this.#makeEvent(category, caseObj, ext);
    const document = JSON.stringify(event);
    const lockId = advisoryLockId(server.storage.schema ?? '', 'fusion:event:append');
    const run = async (trx: Knex.Transaction): Promise<StoredEvent> => {
      const { id, createdAt } = await appendEvent(trx, lockId, { caseGuid: caseObj.guid, category, document });
      const stored: StoredEvent = { id, event, createdAt };
      for (const sink of this.#sinks) await sink.enqueue(trx, stored);
      await trx.raw('SELECT pg_notify(?, ?)', [this.#bus!.channel, id]);
      return stored;
    };
    if (options.trx) {
      const stored = await run(options.trx);
      // Woken when the caller's (outermost) transaction commits (nothing to do on a rollback).
      let root = options.trx;
      while (root.parentTransaction) root = root.parentTransaction;
      root.executionPromise.then(
        () => this.#afterCommit(stored),
        () => undefined,
      );
      return stored;
    }
    const stored = await server.storage.knex.transaction(run);
    this.#afterCommit(stored);
    return stored;
  }

  /** Usernames subscribed to the case on any instance (sorted). */
  subscribers(caseGuid: string): Promise<string[]> {
    this.#started();
    return this.#presence!.subscribers(caseGuid);
  }

  /** Runs one prune turn now (events past retention, expired presence); skipped when another instance is pruning. */
  prune(): Promise<PruneResult> {
    const server = this.#started();
    return pruneOnce({
      storage: server.storage,
      presence: this.#presence!,
      retention: this.config.retention,
      loadCase: (guid) => server.loadCase(guid),
      notify: (category, caseObj, ext) => this.notify(category, caseObj, ext),
    });
  }

  #started(): FusionHost {
    const server = this.#server;
    if (server === null || this.#bus === null || this.#presence === null) {
      throw new FusionError('FUSION_ERR_UNAVAILABLE', 'the event API is not started: call server.start() (or listen()) first');
    }
    return server;
  }

  #afterCommit(stored: StoredEvent): void {
    this.#bus?.poke(BigInt(stored.id));
    for (const sink of this.#sinks) {
      try {
        sink.afterCommit?.(stored);
      } catch (error) {
        this.#server?.logger.error({ err: error }, 'event API: a sink afterCommit threw');
      }
    }
  }

  #makeEvent(category: string, caseObj: Case, ext: Record<string, unknown> | null): E {
    const Cls = this.#eventClass as unknown as new (input: { source: string; category: string; case: Case; ext: unknown }) => E;
    return new Cls({ source: this.#source, category, case: caseObj, ext });
  }

  /** False when an update_case event shows that `identity` lost access to the case. */
  #stillAllowed(identity: Identity, event: BusEvent): boolean {
    return this.#server === null || stillAllowedAfter(this.#server, identity, event, this.#accessCache);
  }

  #streamDeps(): Parameters<typeof openCaseStream>[1] {
    const server = this.#started();
    return {
      bus: this.#bus!,
      presence: this.#presence!,
      acquireStream: (username) => this.#quota!.acquire(username),
      storage: server.storage,
      logger: server.logger,
      maxBufferedEvents: this.config.maxBufferedEvents,
      pageSize: Math.min(500, this.config.maxBufferedEvents),
      makeEvent: (category, caseObj, ext) => this.#makeEvent(category, caseObj, ext),
      notify: (category, caseObj, ext) => this.notify(category, caseObj, ext),
      stillAllowed: (identity, event) => this.#stillAllowed(identity, event),
      track: (stream, done) => {
        this.#streams.set(stream, done);
        return () => {
          this.#streams.delete(stream);
        };
      },
    };
  }

  /** Ends every open stream and waits (briefly) for their presence to be released. */
  async #endStreams(): Promise<void> {
    const pending = [...this.#streams.values()];
    for (const stream of [...this.#streams.keys()]) stream.end();
    if (pending.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, SHUTDOWN_GRACE_MS);
    });
    await Promise.race([Promise.allSettled(pending), grace]);
    clearTimeout(timer);
  }
}
