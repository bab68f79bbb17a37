/**
 * Client twin of FusionEventAPI: `subscribe(caseGuid)` reads GET /api/events/case/:case_guid
 * (Server-Sent Events) over the FusionClient's connection pool, with its API key or session,
 * and yields each event decoded with the event class. A dropped connection is re-opened with
 * backoff and `Last-Event-ID`, so nothing is lost or repeated; aborting the signal ends the
 * iteration cleanly.
 */
import { Event } from '../../concept/index.js';
import { SseParser } from '../../helper/sse.js';
import type { FusionClient, FusionRawResponse } from '../client.js';
import { FusionClientError, isFusionClientError } from '../errors.js';

/** An Event class (Event or a subclass) the client decodes with. */
export interface EventClassLike<E extends Event = Event> {
  readonly conceptName: string;
  fromJSON(data: unknown): E;
}

/** Options of FusionEventAPIClient. */
export interface FusionEventAPIClientOptions<E extends Event = Event> {
  client: FusionClient;
  /** Class to decode events with (the service's Event subclass); default Event. */
  eventClass?: EventClassLike<E>;
}

/** Options of `subscribe`. */
export interface SubscribeOptions<E extends Event = Event> {
  /** Ends the iteration (cleanly: the loop just stops) and closes the connection. */
  signal?: AbortSignal;
  /** Class to decode with for this subscription (default: the client's). */
  eventClass?: EventClassLike<E>;
  /** Resume after this event id (from an earlier subscription's `lastEventId`). */
  lastEventId?: string;
  /** First reconnection delay in ms (default 250), doubled per failed attempt up to `maxRetryDelay`. */
  retryDelay?: number;
  /** Longest reconnection delay in ms (default 10000). */
  maxRetryDelay?: number;
  /** Failed attempts in a row before giving up with the last error (default: never give up). */
  maxRetries?: number;
}

/** An open subscription: iterate it (once) for events; `lastEventId` is where a later one would resume. */
export interface EventSubscription<E extends Event = Event> extends AsyncIterable<E> {
  /** The id of the last event received (null before any), for `subscribe(guid, { lastEventId })`. */
  readonly lastEventId: string | null;
  /** Connections opened so far (1 + reconnections). */
  readonly connections: number;
}

const EVENT_ID = /^\d{1,19}$/;

function isRetryable(error: unknown): boolean {
  if (!isFusionClientError(error)) return true;
  return error.status === 0 || error.status >= 500 || error.status === 429 || error.status === 408;
}

function abortableSleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

function checkDelay(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new TypeError(`FusionEventAPIClient.subscribe: ${name} must be a number of ms >= 0`);
  return value;
}

/** Subscribes to case events over SSE. */
export class FusionEventAPIClient<E extends Event = Event> {
  readonly #client: FusionClient;
  readonly #eventClass: EventClassLike<E>;

  constructor(options: FusionEventAPIClientOptions<E>) {
    if (!options?.client) throw new TypeError('FusionEventAPIClient: client is required');
    if (options.eventClass !== undefined && typeof options.eventClass?.fromJSON !== 'function') {
      throw new TypeError('FusionEventAPIClient: eventClass must be Event or a subclass');
    }
    this.#client = options.client;
    this.#eventClass = options.eventClass ?? (Event as unknown as EventClassLike<E>);
  }

  /**
   * GET /api/events/case/:case_guid as an async iterable of events: first `subscribers`, then
   * the missed ones (with `lastEventId`), then live ones. Errors other than dropped
   * connections, 5xx, 408 and 429 (a 4xx: unknown case, no access) end the iteration by throwing.
   */
  subscribe<S extends Event = E>(caseGuid: string, options: SubscribeOptions<S> = {}): EventSubscription<S> {
    if (typeof caseGuid !== 'string' || caseGuid === '') throw new TypeError('FusionEventAPIClient.subscribe: caseGuid must be a non-empty string (a case guid)');
    if (options.lastEventId !== undefined && !EVENT_ID.test(options.lastEventId)) {
      throw new TypeError(`FusionEventAPIClient.subscribe: lastEventId must be an event id (decimal digits), got ${JSON.stringify(options.lastEventId)}`);
    }
    if (options.maxRetries !== undefined && !(Number.isInteger(options.maxRetries) && options.maxRetries >= 0)) {
      throw new TypeError('FusionEventAPIClient.subscribe: maxRetries must be an integer >= 0');
    }
    const state = {
      path: `/api/events/case/${encodeURIComponent(caseGuid)}`,
      eventClass: (options.eventClass ?? this.#eventClass) as EventClassLike<S>,
      signal: options.signal,
      retryDelay: checkDelay('retryDelay', options.retryDelay, 250),
      maxRetryDelay: checkDelay('maxRetryDelay', options.maxRetryDelay, 10_000),
      maxRetries: options.maxRetries ?? Infinity,
      lastEventId: options.lastEventId ?? null,
      connections: 0,
      iterated: false,
    };
    const client = this.#client;
    return {
      get lastEventId() {
        return state.lastEventId;
      },
      get connections() {
        return state.connections;
      },
      [Symbol.asyncIterator]: () => {
        if (state.iterated) throw new TypeError('FusionEventAPIClient: a subscription can be iterated once; subscribe again to read again');
        state.iterated = true;
        return run(client, state)[Symbol.asyncIterator]();
      },
    };
  }
}

interface RunState<S extends Event> {
  path: string;
  eventClass: EventClassLike<S>;
  signal: AbortSignal | undefined;
  retryDelay: number;
  maxRetryDelay: number;
  maxRetries: number;
  lastEventId: string | null;
  connections: number;
}

async function* run<S extends Event>(client: FusionClient, state: RunState<S>): AsyncGenerator<S, void, undefined> {
  const { signal } = state;
  let failures = 0;
  while (!signal?.aborted) {
    let response: FusionRawResponse | null = null;
    let problem: unknown = null;
    try {
      const headers: Record<string, string> = { accept: 'text/event-stream', 'cache-control': 'no-cache' };
      if (state.lastEventId !== null) headers['last-event-id'] = state.lastEventId;
      response = await client.requestRaw('GET', state.path, { headers, ...(signal ? { signal } : {}) });
      state.connections++;
      const type = String(response.headers['content-type'] ?? '');
      if (!type.startsWith('text/event-stream')) {
        throw new FusionClientError({ status: response.statusCode, code: 'FUSION_ERR_BAD_RESPONSE', message: `GET ${state.path}: expected text/event-stream, got ${type || 'no content type'}`, endpoint: `GET ${state.path}` });
      }
      const parser = new SseParser(state.lastEventId ?? '');
      const decoder = new TextDecoder();
      for await (const chunk of response.body) {
        for (const message of parser.push(decoder.decode(chunk as Buffer, { stream: true }))) {
          const event = decode(state, message.data);
          if (message.hasId) state.lastEventId = message.lastEventId;
          failures = 0;
          yield event;
        }
      }
    } catch (error) {
      if (signal?.aborted) return;
      if (!isRetryable(error) || (isFusionClientError(error) && error.code === 'FUSION_ERR_BAD_RESPONSE')) throw error;
      problem = error;
    } finally {
      if (response !== null && !response.body.destroyed) response.body.destroy();
    }
    if (signal?.aborted) return;
    // The stream ended or broke: reconnect from the last id (after a pause, unless it had been healthy).
    failures++;
    if (failures > state.maxRetries) {
      throw problem ?? new FusionClientError({ status: 0, code: 'FUSION_ERR_CONNECTION', message: `GET ${state.path}: the event stream kept closing`, endpoint: `GET ${state.path}` });
    }
    const base = Math.min(state.maxRetryDelay, state.retryDelay * 2 ** (failures - 1));
    await abortableSleep(base / 2 + Math.random() * (base / 2), signal);
  }
}

function decode<S extends Event>(state: RunState<S>, data: string): S {
  try {
    return state.eventClass.fromJSON(JSON.parse(data));
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new FusionClientError(
      { status: 200, code: 'FUSION_ERR_BAD_RESPONSE', message: `GET ${state.path}: a message is not a valid ${state.eventClass.conceptName}: ${detail}`, endpoint: `GET ${state.path}` },
      { cause: error },
    );
  }
}
