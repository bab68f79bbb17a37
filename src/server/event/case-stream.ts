/**
 * GET /api/events/case/:case_guid: one SSE subscriber. The order of the steps is what makes
 * resumption exact: (1) subscribe to the bus and buffer, (2) join presence, (3) read the
 * subscribers and the log position, (4) send `subscribers` (its id: the starting position),
 * then the missed events page by page (or a `reset` when some were pruned), (5) flush the
 * buffer without what was sent, then go live. Every event is in the backlog or arrives
 * through the bus after (1); ids dedupe the overlap.
 */
import type { Case, Event, Identity } from '../../concept/index.js';
import { FusionError } from '../../helper/errors.js';
import type { FusionLogger } from '../../helper/logging.js';
import { formatSseMessage } from '../../helper/sse.js';
import type { RouteContext } from '../route.js';
import type { FusionStorage } from '../storage/storage.js';
import type { BusEvent, EventBus } from './event-bus.js';
import { toBusEvent } from './event-bus.js';
import { fetchCasePage } from './event-log.js';
import type { CasePage } from './event-log.js';
import type { Presence } from './presence.js';
import { SseStream } from './sse-stream.js';

/** What a case stream needs from the event API. */
export interface CaseStreamDeps {
  bus: EventBus;
  presence: Presence;
  /** Counts a stream of `username` against its cap (throws 429 past it); returns the release. */
  acquireStream(username: string): () => void;
  storage: FusionStorage;
  logger: FusionLogger;
  maxBufferedEvents: number;
  /** Rows per backlog query. */
  pageSize: number;
  /** Builds an Event of the API's class (for `subscribers` and `reset`, which are not stored). */
  makeEvent(category: string, caseObj: Case, ext: Record<string, unknown>): Event;
  /** Stores and publishes an event (`subscribe` / `unsubscribe`). */
  notify(category: string, caseObj: Case, ext: Record<string, unknown>): Promise<unknown>;
  /** False when `event` shows the case no longer lets `identity` in (its acs changed). */
  stillAllowed(identity: Identity, event: BusEvent): boolean;
  /** Tracks the stream (keep-alive, shutdown); returns the untrack function. */
  track(stream: SseStream, done: Promise<void>): () => void;
}

const MAX_EVENT_ID = (1n << 63n) - 1n;

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The id to resume after: the `Last-Event-ID` header, else the `last_event_id` query
 * parameter, else null. Anything but a decimal event id is refused (400) before the stream starts.
 */
export function parseLastEventId(header: string | string[] | undefined, query: unknown): bigint | null {
  const fromQuery = typeof query === 'object' && query !== null ? (query as Record<string, unknown>).last_event_id : undefined;
  const raw = headerValue(header) ?? (typeof fromQuery === 'string' || Array.isArray(fromQuery) ? headerValue(fromQuery as string | string[]) : undefined);
  if (raw === undefined || raw.trim() === '') return null;
  const text = raw.trim();
  if (!/^\d{1,19}$/.test(text) || BigInt(text) > MAX_EVENT_ID) {
    const shown = JSON.stringify(text.slice(0, 40));
    throw new FusionError('FUSION_ERR_BAD_REQUEST', `Last-Event-ID: expected the id of an event received earlier (a decimal integer), got ${shown}; reconnect without it to start from now`);
  }
  return BigInt(text);
}

/** Serves one subscriber until it disconnects or the server closes. */
export async function openCaseStream(ctx: RouteContext<unknown, unknown, false, readonly ['case_guid']>, deps: CaseStreamDeps): Promise<unknown> {
  const caseObj = ctx.case;
  const guid = caseObj.guid;
  const identity = ctx.identity;
  const username = identity.username;
  const lastEventId = parseLastEventId(ctx.request.headers['last-event-id'], ctx.query);
  const release = deps.acquireStream(username);

  let live = false;
  let sentThrough = 0n;
  const pending: BusEvent[] = [];
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => {
    resolveDone = resolve;
  });
  let joined = false;
  let untrack = (): void => undefined;
  const stream = new SseStream(ctx.reply, {
    maxBuffered: deps.maxBufferedEvents,
    onClose: (reason) => {
      release();
      unsubscribe();
      untrack();
      if (reason === 'overflow') deps.logger.warn({ case_guid: guid, username }, 'event stream: subscriber too far behind; disconnected (it can resume)');
      const leaving = joined ? leave() : Promise.resolve();
      void leaving.finally(resolveDone);
    },
  });
  const leave = async (): Promise<void> => {
    try {
      await deps.presence.leave(guid, username, () => deps.notify('unsubscribe', caseObj, { username }));
    } catch (error) {
      deps.logger.warn({ err: error, case_guid: guid, username }, 'event stream: leaving presence failed');
    }
  };
  const deliver = (event: BusEvent): void => {
    if (event.id <= sentThrough) return;
    if (!deps.stillAllowed(identity, event)) {
      stream.end();
      return;
    }
    sentThrough = event.id;
    stream.write(event.frame);
  };
  const unsubscribe = deps.bus.subscribe(guid, (event) => {
    if (live) {
      deliver(event);
    } else if (pending.push(event) > deps.maxBufferedEvents) {
      stream.fail();
    }
  });

  // Before the stream starts, failures answer with an error envelope.
  let page;
  let users: string[];
  try {
    joined = true;
    await deps.presence.join(guid, username, () => deps.notify('subscribe', caseObj, { username }));
    users = await deps.presence.subscribers(guid);
    page = await fetchCasePage(deps.storage.knex, guid, lastEventId ?? 0n, lastEventId === null ? 0 : deps.pageSize);
  } catch (error) {
    release();
    unsubscribe();
    if (joined) await leave();
    throw error;
  }
  if (stream.closed) return ctx.reply; // the client left meanwhile (onClose cleaned up; the reply is released)
  untrack = deps.track(stream, done);
  const subscribers = deps.makeEvent('subscribers', caseObj, { usernames: users.includes(username) ? users : [...users, username].sort() });
  // Its id is the stream's starting point in the log, so a client cut before the first event
  // still resumes from here (not from "now", which would skip what happened in between).
  const start = lastEventId ?? page.maxId;
  stream.start(formatSseMessage({ id: start.toString(), data: JSON.stringify(subscribers) }));

  try {
    sentThrough = lastEventId === null ? start : await sendBacklog(stream, deps, caseObj, lastEventId, page);
    live = true;
    for (const event of pending.splice(0)) deliver(event);
  } catch (error) {
    deps.logger.error({ err: error, case_guid: guid }, 'event stream: replaying missed events failed; disconnecting (the client can resume)');
    stream.fail();
  }
  return ctx.reply;
}

/** Sends the events after `after` page by page; returns the last id sent (or the reset point). */
async function sendBacklog(
  stream: SseStream,
  deps: CaseStreamDeps,
  caseObj: Case,
  after: bigint,
  first: CasePage,
): Promise<bigint> {
  let page = first;
  let position = after;
  for (;;) {
    const high = page.maxId > page.prunedThrough ? page.maxId : page.prunedThrough;
    if (page.prunedThrough > position || after > high) {
      // Some events the client missed are gone (or its id is not from this log): say so.
      const reason = after > high ? 'unknown_id' : 'retention';
      const reset = deps.makeEvent('reset', caseObj, { last_event_id: after.toString(), reason });
      stream.write(formatSseMessage({ id: high.toString(), data: JSON.stringify(reset) }));
      return high;
    }
    for (const row of page.rows) {
      stream.write(toBusEvent(row).frame);
      position = row.id;
    }
    if (page.rows.length < deps.pageSize || stream.closed) return position;
    await stream.drained();
    page = await fetchCasePage(deps.storage.knex, caseObj.guid, position, deps.pageSize);
  }
}
