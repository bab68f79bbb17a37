/** Shared by the event API tests: users, servers with the event API, a raw SSE reader. */
import { afterAll, beforeAll } from '@jest/globals';
import { Client } from 'undici';
import type { Dispatcher } from 'undici';
import type { Case } from '../../../src/concept/index.js';
import { SseParser } from '../../../src/helper/sse.js';
import type { SseMessage } from '../../../src/helper/sse.js';
import { setAuditSink } from '../../../src/helper/tracing.js';
import { FusionEventAPI } from '../../../src/server/event/impl.js';
import type { FusionEventAPIOptions } from '../../../src/server/event/impl.js';
import type { FusionStorage } from '../../../src/server/storage/storage.js';
import { createTestServer, mergeConfig } from '../../../src/testing/index.js';
import type { TestServer, TestServerOptions, TestUser } from '../../../src/testing/index.js';

/** alice and bob (soc), eve (outsiders: cannot read soc cases). */
export const USERS: TestUser[] = [
  { username: 'alice', password: 'alice-pw', groups: ['soc'] },
  { username: 'bob', password: 'bob-pw', groups: ['soc'] },
  { username: 'eve', password: 'eve-pw', groups: ['outsiders'] },
];

/** A test server with the event API (webhooks off unless `event` options say otherwise) and its API. */
export interface EventServer extends TestServer {
  events: FusionEventAPI;
}

/** Starts a server on `storage` with USERS and an event API built from `apiOptions`. */
export async function startEventServer(
  storage: FusionStorage,
  options: { config?: Record<string, unknown>; api?: FusionEventAPIOptions; server?: TestServerOptions } = {},
): Promise<EventServer> {
  const events = new FusionEventAPI({ webhooks: false, ...options.api });
  const server = await createTestServer({
    users: USERS,
    storage,
    ...options.server,
    apis: [events, ...(options.server?.apis ?? [])],
    config: mergeConfig({ event: {} }, options.config ?? {}),
  });
  return Object.assign(server, { events });
}

/** Keeps the audit lines of this file off the console. */
export function silenceAudit(): void {
  beforeAll(() => setAuditSink({ info: () => undefined, warn: () => undefined }));
  afterAll(() => setAuditSink(undefined));
}

/** Headers authenticating as the API-key client of `t`. */
export function serviceHeaders(t: TestServer): Record<string, string> {
  return { 'x-fusion-api-token': t.apiKey };
}

/** Headers authenticating as `username` (logs in). */
export async function userHeaders(t: TestServer, username: string): Promise<Record<string, string>> {
  const clients = await t.login(username);
  const name = t.config.auth?.cookie.name ?? 'FUSION_SESSION';
  return { cookie: `${name}=${clients.client.sessionCookie ?? ''}` };
}

/** A parsed SSE message: its id and the Event JSON it carries. */
export interface ProbeEvent {
  id: string | null;
  category: string;
  ext: Record<string, unknown> | null;
  case: Record<string, unknown>;
  source: string;
}

/** Reads an SSE response with plain undici (no framework client), keeping every message. */
export class SseProbe {
  readonly messages: SseMessage[] = [];
  readonly comments: string[] = [];
  readonly #events: ProbeEvent[] = [];
  /** Resolves when the response ends ('end') or breaks ('error'). */
  readonly ended: Promise<'end' | 'error'>;
  readonly #client: Client;
  readonly #body: Dispatcher.ResponseData['body'];
  readonly #waiters = new Set<() => void>();

  private constructor(client: Client, response: Dispatcher.ResponseData) {
    this.#client = client;
    this.#body = response.body;
    const parser = new SseParser();
    this.ended = new Promise((resolve) => {
      const decoder = new TextDecoder();
      response.body.on('data', (bytes: Buffer) => {
        const chunk = decoder.decode(bytes, { stream: true });
        for (const line of chunk.split('\n')) if (line.startsWith(':')) this.comments.push(line);
        for (const message of parser.push(chunk)) {
          this.messages.push(message);
          this.#events.push({ id: message.hasId ? message.lastEventId : null, ...(JSON.parse(message.data) as Omit<ProbeEvent, 'id'>) });
        }
        for (const wake of this.#waiters) wake();
      });
      response.body.on('end', () => resolve('end'));
      response.body.on('error', () => resolve('error'));
    }).finally(() => {
      for (const wake of this.#waiters) wake();
    }) as Promise<'end' | 'error'>;
  }

  /** Opens `path` on `baseUrl`; throws with the status and body when the answer is not 200. */
  static async open(baseUrl: string, path: string, headers: Record<string, string> = {}): Promise<SseProbe> {
    const client = new Client(baseUrl);
    const response = await client.request({ method: 'GET', path, headers: { accept: 'text/event-stream', ...headers } });
    if (response.statusCode !== 200) {
      const text = await response.body.text();
      await client.close();
      throw Object.assign(new Error(`HTTP ${response.statusCode}: ${text}`), { status: response.statusCode, body: JSON.parse(text) as unknown });
    }
    return new SseProbe(client, response);
  }

  /** The events received so far (data parsed). */
  get events(): ProbeEvent[] {
    return [...this.#events];
  }

  /** Waits until `predicate(events)` holds; rejects after `timeoutMs` with what arrived. */
  async waitFor(predicate: (events: ProbeEvent[]) => boolean, timeoutMs = 10_000): Promise<ProbeEvent[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const events = this.events;
      if (predicate(events)) return events;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`SseProbe: condition not met after ${timeoutMs} ms; got ${JSON.stringify(events.map((e) => [e.id, e.category, e.ext]))}`);
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          clearTimeout(timer);
          this.#waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.#waiters.add(wake);
      });
    }
  }

  /** Waits for `count` messages in all. */
  waitForCount(count: number, timeoutMs?: number): Promise<ProbeEvent[]> {
    return this.waitFor((events) => events.length >= count, timeoutMs);
  }

  /** Cuts the connection (as a client that goes away). */
  async close(): Promise<void> {
    this.#body.destroy();
    await this.#client.destroy();
  }
}

/** Polls `check` every 20 ms until it returns true; rejects after `timeoutMs`. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`until: ${what} not met after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Creates a case readable by soc (through the API key client). */
export function createSocCase(t: TestServer, name = 'case'): Promise<Case> {
  return t.clients.service.case.createCase({ name, acs: ['soc'] });
}
