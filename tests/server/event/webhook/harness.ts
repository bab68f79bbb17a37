/**
 * Test kit for webhooks: a real HTTP receiver on 127.0.0.1 that records every request and
 * answers as a script says, events, configs with small backoffs, and waiting helpers.
 */
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { Case, Event } from '../../../../src/concept/index.js';
import { createLogger } from '../../../../src/helper/logging.js';
import type { FusionLogger } from '../../../../src/helper/logging.js';
import { DEFAULT_WEBHOOK_CONFIG } from '../../../../src/server/event/webhook/config.js';
import type { FusionWebhookConfig } from '../../../../src/server/event/webhook/config.js';
import type { WebhookDispatcher } from '../../../../src/server/event/webhook/dispatcher.js';
import type { KnexStorage } from '../../../../src/server/storage/knex-storage.js';

/** One request a receiver got. */
export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** What the receiver answered. */
  status: number;
}

/** What the receiver answers: a status, or 'reset' to cut the connection, or 'hang' to never answer. */
export type Answer = number | 'reset' | 'hang';

/** A recording HTTP receiver. */
export interface TestReceiver {
  readonly url: string;
  readonly port: number;
  readonly requests: ReceivedRequest[];
  /** Decides each answer (given the 0-based index of the request); default 200. */
  answer: (index: number, request: ReceivedRequest) => Answer;
  /** Milliseconds to wait before answering (keeps attempts in flight). */
  delayMs: number;
  close(): Promise<void>;
}

/** Starts a receiver on 127.0.0.1, port 0 (or `port`). */
export async function startReceiver(answer: TestReceiver['answer'] = () => 200, port = 0): Promise<TestReceiver> {
  const hanging = new Set<() => void>();
  const receiver: TestReceiver = { url: '', port: 0, requests: [], answer, delayMs: 0, close: async () => undefined };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request: ReceivedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), status: 0 };
      const decision = receiver.answer(receiver.requests.length, request);
      receiver.requests.push(request);
      if (decision === 'reset') {
        req.socket.destroy();
      } else if (decision === 'hang') {
        hanging.add(() => res.destroy());
      } else {
        request.status = decision;
        const send = (): void => void res.writeHead(decision, { 'content-type': 'application/json' }).end(`{"status":${decision}}`);
        if (receiver.delayMs > 0) setTimeout(send, receiver.delayMs);
        else send();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const actual = (server.address() as AddressInfo).port;
  Object.assign(receiver, {
    url: `http://127.0.0.1:${actual}/hook`,
    port: actual,
    close: async () => {
      for (const end of hanging) end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
  return receiver;
}

/** A fresh `whsec_` secret. */
export function newSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** Webhook settings for tests: loopback allowed, tiny backoff, fast polling. */
export function testWebhookConfig(overrides: Partial<FusionWebhookConfig> = {}): FusionWebhookConfig {
  return {
    ...DEFAULT_WEBHOOK_CONFIG,
    allow: ['127.0.0.0/8', '::1'],
    timeout: 2,
    backoffBase: 0.02,
    backoffMax: 0.1,
    pollInterval: 0.05,
    deadline: 60,
    ...overrides,
  };
}

/** An event whose case lists `webhooks`. */
export function testEvent(webhooks: string[] = [], category = 'update_case'): Event {
  return new Event({ source: 'webhook-test', category, case: new Case({ name: `case ${randomBytes(3).toString('hex')}`, webhooks }) });
}

let nextEventId = 1_000_000 + Math.floor(Math.random() * 1_000_000);

/** Enqueues `event` in its own committed transaction, as the event API would; returns its id. */
export async function enqueueEvent(storage: KnexStorage, dispatcher: WebhookDispatcher, event: Event): Promise<string> {
  const id = String(nextEventId++);
  await storage.knex.transaction((trx) => dispatcher.enqueue(trx, { id, event, createdAt: new Date() }));
  return id;
}

/** Waits until `check` returns a truthy value (polling every 20 ms), or fails after `ms`. */
export async function waitFor<T>(check: () => T | Promise<T>, ms = 15_000, what = 'condition'): Promise<NonNullable<T>> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A logger keeping its lines (parsed) in `lines`. */
export function recordingLogger(): { logger: FusionLogger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    level: 'debug',
    stream: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  });
  return { logger, lines };
}

/** The delivery rows of an event. */
export async function deliveriesOf(storage: KnexStorage, eventId: string): Promise<{ url: string; status: string; attempt: number; last_error: string | null }[]> {
  return storage.knex('fusion_webhook_delivery').where({ event_id: eventId }).orderBy('url').select('url', 'status', 'attempt', 'last_error');
}
