/**
 * Channel `case/<guid>`: the case's events, read from the event rows the SSE stream reads
 * (same ids, so `since` is a Last-Event-ID). Joining is authorized like the SSE route
 * (operation `subscribe`, then the case's ACS). Live events come from this API's own event
 * bus; those arriving during the replay wait in a buffer, so none is lost or sent twice.
 * An `update_case` event whose ACS shuts the member out is not sent: the member is dropped
 * from the channel instead (as the SSE stream ends).
 */
import type { Identity } from '../../concept/index.js';
import { FusionError } from '../../helper/errors.js';
import type { FusionLogger } from '../../helper/logging.js';
import { stillAllowedAfter } from '../event/case-access.js';
import type { CaseAccessCache } from '../event/case-access.js';
import { EventBus } from '../event/event-bus.js';
import type { BusEvent } from '../event/event-bus.js';
import { fetchCasePage } from '../event/event-log.js';
import type { NotificationChannelOptions } from '../event/notification-channel.js';
import type { FusionHost } from '../host.js';
import type { ChannelSubscriber, JoinResult } from './channels.js';
import { MAX_REPLAY } from './channels.js';

/** The channel name pattern (a lowercase or uppercase UUID after `case/`). */
export const CASE_CHANNEL = /^case\/([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$/;

/** Case event channels of one instance. */
export class CaseChannels {
  readonly #host: FusionHost;
  readonly #bus: EventBus;
  readonly #subscriptions = new Map<ChannelSubscriber, Map<string, () => void>>();
  readonly #accessCache: CaseAccessCache = new WeakMap();

  constructor(host: FusionHost, logger: FusionLogger, listen?: NotificationChannelOptions) {
    this.#host = host;
    this.#bus = new EventBus({ storage: host.storage, logger, ...(listen ? { channel: listen } : {}) });
  }

  /** Starts the bus. */
  start(): Promise<void> {
    return this.#bus.start();
  }

  /** Stops the bus and drops every subscription. */
  async close(): Promise<void> {
    for (const subscriber of [...this.#subscriptions.keys()]) this.forget(subscriber);
    await this.#bus.close();
  }

  /**
   * Subscribes `subscriber` (authorized as `identity`) to the events of the case named by
   * `channel`, replaying after `since`; `revoked` is called once it lost access to the case.
   */
  async join(channel: string, subscriber: ChannelSubscriber, since: number | null, identity: Identity, revoked: () => void): Promise<Omit<JoinResult, 'members'>> {
    const guid = CASE_CHANNEL.exec(channel)![1]!.toLowerCase();
    let lastSent = 0;
    let buffer: BusEvent[] | null = [];
    let allowed = true;
    // Live events only: the replay is history the member was allowed to see when it joined.
    const send = (event: BusEvent, live = true): void => {
      const id = Number(event.id);
      if (id <= lastSent || !allowed) return;
      if (live && !stillAllowedAfter(this.#host, identity, event, this.#accessCache)) {
        allowed = false;
        this.leave(channel, subscriber);
        revoked();
        return;
      }
      lastSent = id;
      subscriber.message(channel, id, JSON.parse(event.document) as unknown);
    };
    const mine = this.#subscriptions.get(subscriber) ?? new Map<string, () => void>();
    this.#subscriptions.set(subscriber, mine);
    mine.get(channel)?.();
    mine.set(
      channel,
      this.#bus.subscribe(guid, (event) => {
        if (buffer !== null) buffer.push(event);
        else send(event);
      }),
    );
    const page = await fetchCasePage(this.#host.storage.knex, guid, BigInt(since ?? 0), since === null ? 0 : MAX_REPLAY);
    if (since !== null && (BigInt(since) < page.prunedThrough || page.rows.length >= MAX_REPLAY)) {
      subscriber.reset(channel, Number(page.maxId));
    } else {
      for (const row of page.rows) send({ ...row, frame: '' }, false);
    }
    lastSent = Math.max(lastSent, Number(page.maxId));
    const waiting = buffer;
    buffer = null;
    for (const event of waiting) send(event);
    return { last_id: lastSent };
  }

  /** Unsubscribes from one channel. */
  leave(channel: string, subscriber: ChannelSubscriber): boolean {
    const mine = this.#subscriptions.get(subscriber);
    const unsubscribe = mine?.get(channel);
    if (unsubscribe === undefined) return false;
    unsubscribe();
    mine!.delete(channel);
    return true;
  }

  /** Drops every subscription of a closed connection. */
  forget(subscriber: ChannelSubscriber): void {
    for (const unsubscribe of this.#subscriptions.get(subscriber)?.values() ?? []) unsubscribe();
    this.#subscriptions.delete(subscriber);
  }
}

/** Authorizes joining `case/<guid>` exactly as GET /api/events/case/:case_guid is; returns the identity allowed. */
export async function authorizeCaseChannel(
  host: FusionHost,
  authorize: (operation: string, context: Record<string, unknown>) => Promise<Identity>,
  channel: string,
): Promise<Identity> {
  const guid = CASE_CHANNEL.exec(channel)![1]!.toLowerCase();
  const identity = await authorize('subscribe', { case_guid: guid });
  const caseObj = await host.loadCase(guid);
  if (caseObj === null) throw new FusionError('FUSION_ERR_CASE_NOT_FOUND', `case ${guid} not found`);
  if (host.authorizer !== null && !host.authorizer.canAccessCase(identity, caseObj)) {
    throw new FusionError('FUSION_ERR_FORBIDDEN', `access to case ${guid} denied: its acs does not include you`);
  }
  return identity;
}
