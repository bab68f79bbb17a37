/**
 * WebhookDispatcher: the event sink that turns each stored event into delivery rows (inside the
 * event's transaction: nothing accepted is lost) and the per-instance worker that delivers
 * them. Rows are the truth: any instance may claim any due row (FOR UPDATE SKIP LOCKED, with a
 * lease), so a restart or a crash resumes where the rows say. Each delivery is retried with
 * exponential backoff and full jitter until acknowledged (2xx), gone (410: the endpoint is
 * disabled) or past its deadline (failed; the endpoint is disabled unless it accepted other
 * deliveries meanwhile).
 */
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import type { Event } from '../../../concept/index.js';
import type { FusionLogger } from '../../../helper/logging.js';
import { serializeTraceContext } from '../../../helper/telemetry.js';
import type { FusionMetrics } from '../../metrics/registry.js';
import type { FusionStorage } from '../../storage/storage.js';
import type { EventSink, StoredEvent } from '../event-sink.js';
import { retryDelayMs } from './backoff.js';
import type { FusionWebhookConfig } from './config.js';
import { claimDue, deliveredSince, disableEndpoint, disabledEndpoints, enableEndpoint, insertDeliveries, markDelivered, markFailed, markRetry, pruneFinished } from './delivery-rows.js';
import type { ClaimedDelivery } from './delivery-rows.js';
import { caseGuidOfEventBody } from './endpoint-secret.js';
import { DeliveryTelemetry } from './delivery-telemetry.js';
import { WebhookSender } from './webhook-sender.js';
import type { AttemptOutcome } from './webhook-sender.js';
import { policyOf, validateWebhookUrl } from './webhook-url.js';

/** What the dispatcher needs of the server (a FusionServer fits). */
export interface WebhookHost {
  /** Read when first needed (after the server opened it). */
  readonly storage: FusionStorage;
  readonly logger: FusionLogger;
  /** Where the attempt counter goes (a FusionServer's metrics); none: not counted. */
  readonly metrics?: FusionMetrics;
}

/** Options for tests and tuning. */
export interface WebhookDispatcherOptions {
  /** Random source of the backoff jitter (default Math.random). */
  random?: () => number;
  /** Milliseconds close() lets attempts in flight finish before cutting them (default min(timeout, 5 s)). */
  closeGraceMs?: number;
}

const PRUNE_EVERY_MS = 10 * 60_000;
const MAX_ERROR_PAUSE_MS = 30_000;

/** Sink of stored events and worker delivering their webhooks (see the file comment). */
export class WebhookDispatcher implements EventSink {
  /** The parsed webhook settings. */
  readonly config: FusionWebhookConfig;
  readonly #host: WebhookHost;
  readonly #log: FusionLogger;
  readonly #random: () => number;
  readonly #closeGraceMs: number;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #abort = new AbortController();
  readonly #telemetry: DeliveryTelemetry;
  #sender: WebhookSender | null = null;
  #loop: Promise<void> | null = null;
  #closing: Promise<void> | null = null;
  #stopping = false;
  #wakeUp: (() => void) | null = null;
  #woken = false;
  #timer: NodeJS.Timeout | null = null;
  #timerAt = Infinity;
  #nextPruneAt = 0;

  constructor(config: FusionWebhookConfig, host: WebhookHost, options: WebhookDispatcherOptions = {}) {
    this.config = config;
    this.#host = host;
    this.#log = host.logger.child({ module: 'server.event.webhook' });
    this.#random = options.random ?? Math.random;
    this.#closeGraceMs = options.closeGraceMs ?? Math.min(config.timeout * 1000, 5000);
    this.#telemetry = new DeliveryTelemetry(host.metrics);
  }

  /** Milliseconds a claimed row stays invisible to other instances while its attempt runs. */
  get leaseMs(): number {
    return 2 * this.config.timeout * 1000 + 1000;
  }

  /**
   * Inserts one delivery row per target (the global webhook and the case's, deduplicated;
   * malformed URLs and disabled endpoints skipped) in `trx`, the transaction storing the
   * event, and wakes the worker once it commits.
   */
  async enqueue(trx: Knex.Transaction, stored: StoredEvent): Promise<void> {
    const urls = this.#targets(stored.event);
    if (urls.length === 0) return;
    const inserted = await insertDeliveries(trx, {
      eventId: stored.id,
      webhookId: `evt_${stored.id}_${randomBytes(8).toString('hex')}`,
      body: JSON.stringify(stored.event.toJSON()),
      urls,
      deadlineMs: this.config.deadline * 1000,
      traceContext: serializeTraceContext(),
    });
    const skipped = urls.filter((url) => !inserted.includes(url));
    if (skipped.length > 0) this.#log.debug({ event_id: stored.id, skipped }, 'webhook: endpoints disabled (or enqueued already): skipped');
    let root = trx;
    while (root.parentTransaction) root = root.parentTransaction;
    const committed: Promise<unknown> | undefined = root.executionPromise;
    if (committed === undefined) queueMicrotask(() => this.wake());
    else committed.then(() => this.wake(), () => undefined);
  }

  /** Wakes the worker: the event's rows are committed (the event API calls it). */
  afterCommit(): void {
    this.wake();
  }

  /** The URLs that get the notifier token and the global signatures: the global webhook and `trusted_webhooks`. */
  get trustedUrls(): string[] {
    return [...(this.config.webhook === undefined ? [] : [this.config.webhook]), ...this.config.trusted];
  }

  /** Starts the worker (idempotent); deliveries left pending by any instance resume. */
  async start(): Promise<void> {
    if (this.#loop !== null || this.#stopping) return;
    this.#sender = new WebhookSender({
      policy: policyOf(this.config),
      timeoutMs: this.config.timeout * 1000,
      secrets: this.config.secrets,
      trusted: this.trustedUrls,
      ...(this.config.apiKey === undefined ? {} : { apiKey: this.config.apiKey }),
    });
    if (this.config.secrets.length === 0) this.#log.warn('webhook: no event.secret configured: deliveries are sent without webhook-signature');
    this.#nextPruneAt = Date.now() + 60_000;
    this.#loop = this.#run();
  }

  /** Asks the worker to look for due deliveries now. */
  wake(): void {
    this.#woken = true;
    this.#wakeUp?.();
  }

  /** Stops claiming, lets attempts in flight finish (cut after the grace time), closes connections; idempotent. */
  close(): Promise<void> {
    if (this.#closing === null) {
      this.#stopping = true;
      this.#closing = this.#close();
    }
    return this.#closing;
  }

  /** Enables a disabled endpoint again (new events are delivered to it); true when it was disabled. */
  enableEndpoint(url: string): Promise<boolean> {
    return enableEndpoint(this.#host.storage.knex, url);
  }

  /** The disabled endpoints, with when and why. */
  disabledEndpoints(): Promise<{ url: string; disabledAt: Date; reason: string | null }[]> {
    return disabledEndpoints(this.#host.storage.knex);
  }

  async #close(): Promise<void> {
    this.wake();
    const settled = (): Promise<unknown> => Promise.allSettled([...this.#inFlight]);
    let grace: NodeJS.Timeout | undefined;
    await Promise.race([settled(), new Promise((resolve) => (grace = setTimeout(resolve, this.#closeGraceMs)))]);
    clearTimeout(grace);
    this.#abort.abort();
    await this.#loop;
    await settled();
    if (this.#timer !== null) clearTimeout(this.#timer);
    await this.#sender?.close();
  }

  #targets(event: Event): string[] {
    const candidates = [...(this.config.webhook === undefined ? [] : [this.config.webhook]), ...(event.case?.webhooks ?? [])];
    const urls = new Set<string>();
    for (const candidate of candidates) {
      try {
        urls.add(validateWebhookUrl(candidate, this.config));
      } catch (error) {
        this.#log.warn({ case_guid: event.case?.guid, err: error }, 'webhook: invalid case webhook URL skipped');
      }
    }
    return [...urls];
  }

  async #run(): Promise<void> {
    let errorPause = 0;
    while (!this.#stopping) {
      try {
        await this.#maybePrune();
        const free = this.config.concurrency - this.#inFlight.size;
        const claimed = free > 0 ? await claimDue(this.#host.storage.knex, free, this.leaseMs) : [];
        errorPause = 0;
        for (const row of claimed) this.#launch(row);
        if (free > 0 && claimed.length === free) continue;
      } catch (error) {
        if (this.#stopping) break;
        errorPause = Math.min(Math.max(errorPause * 2, this.config.pollInterval * 1000), MAX_ERROR_PAUSE_MS);
        this.#log.error({ err: error, retry_in_ms: errorPause }, 'webhook worker: claiming or pruning deliveries failed (storage unreachable?)');
      }
      await this.#idle(errorPause || this.config.pollInterval * 1000);
    }
  }

  /** Waits for wake(), a freed slot, a scheduled retry or `ms`, whichever comes first. */
  async #idle(ms: number): Promise<void> {
    if (this.#woken || this.#stopping) {
      this.#woken = false;
      return;
    }
    let timeout: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.#wakeUp = resolve;
      timeout = setTimeout(resolve, ms);
    });
    clearTimeout(timeout);
    this.#wakeUp = null;
    this.#woken = false;
  }

  /** Wakes the worker in `ms` (keeps the earliest of such requests). */
  #wakeIn(ms: number): void {
    const at = Date.now() + ms;
    if (at >= this.#timerAt || this.#stopping) return;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#timerAt = Infinity;
      this.wake();
    }, ms);
    this.#timer.unref();
  }

  async #maybePrune(): Promise<void> {
    if (Date.now() < this.#nextPruneAt) return;
    this.#nextPruneAt = Date.now() + PRUNE_EVERY_MS;
    const pruned = await pruneFinished(this.#host.storage.knex, this.config.retention * 1000);
    if (pruned > 0) this.#log.debug({ pruned }, 'webhook: finished deliveries pruned');
  }

  #launch(row: ClaimedDelivery): void {
    const attempt = this.#telemetry
      .run(row, () => this.#attempt(row))
      .then(() => undefined)
      .catch((error: unknown) => this.#log.error({ err: error, delivery_id: row.id, url: row.url }, 'webhook: recording an attempt failed (retried after the lease)'))
      .finally(() => {
        this.#inFlight.delete(attempt);
        this.wake();
      });
    this.#inFlight.add(attempt);
  }

  async #attempt(row: ClaimedDelivery): Promise<AttemptOutcome> {
    const knex = this.#host.storage.knex;
    const outcome = await this.#sender!.send({ ...row, caseGuid: caseGuidOfEventBody(row.body) }, this.#abort.signal);
    const where = { delivery_id: row.id, event_id: row.eventId, url: row.url, attempt: row.attempt };
    if (outcome.kind === 'delivered') {
      if (await markDelivered(knex, row.id, row.attempt)) this.#log.debug({ ...where, status: outcome.status }, 'webhook delivered');
      else this.#log.warn(where, 'webhook delivered, but its row changed meanwhile (lease expired or endpoint disabled): it may arrive twice (same webhook-id)');
    } else if (outcome.kind === 'gone') {
      const dropped = await disableEndpoint(knex, row.url, 'answered 410 Gone');
      this.#log.warn({ ...where, dropped }, `webhook endpoint answered 410 Gone: disabled, ${dropped} pending deliveries dropped`);
    } else if (outcome.kind === 'refused') {
      await markFailed(knex, row.id, row.attempt, outcome.error);
      this.#log.warn({ ...where, error: outcome.error }, 'webhook refused by the SSRF guard: delivery failed');
    } else {
      await this.#retry(knex, row, outcome.error);
    }
    return outcome;
  }

  async #retry(knex: Knex, row: ClaimedDelivery, error: string): Promise<void> {
    const where = { delivery_id: row.id, event_id: row.eventId, url: row.url, attempt: row.attempt, error };
    const cut = this.#abort.signal.aborted;
    const delay = cut ? 0 : retryDelayMs(row.attempt, this.config.backoffBase * 1000, this.config.backoffMax * 1000, this.#random);
    const status = await markRetry(knex, row.id, row.attempt, delay, error);
    if (status === 'pending') {
      this.#log.info({ ...where, retry_in_ms: delay }, 'webhook attempt failed: will retry');
      this.#wakeIn(delay);
    } else if (status === 'failed') {
      if (await deliveredSince(knex, row.url, row.createdAt)) {
        this.#log.error(where, 'webhook delivery failed: deadline passed (the endpoint accepted other deliveries: kept enabled)');
        return;
      }
      const reason = `failed every attempt since ${row.createdAt.toISOString()} (deadline ${this.config.deadline} s); last error: ${error}`;
      const dropped = await disableEndpoint(knex, row.url, reason);
      this.#log.error({ ...where, dropped }, `webhook endpoint disabled: ${reason}; ${dropped} pending deliveries dropped`);
    }
  }
}

/** The webhook half of the event API: an EventSink with start()/close(). */
export function createWebhookDispatcher(config: FusionWebhookConfig, server: WebhookHost, options?: WebhookDispatcherOptions): WebhookDispatcher {
  return new WebhookDispatcher(config, server, options);
}
