/**
 * One delivery attempt: POST the event JSON with the Standard Webhooks headers (a fresh timestamp and signature per attempt, the same webhook-id), through
 * an undici Agent whose connector resolves hosts with the SSRF guard. Never follows redirects.
 * Trusted destinations (the global webhook, `trusted_webhooks`) get the edf_fusion token header
 * and the global signatures; any other (a URL a case lists) gets only a signature made with its
 * own derived secret (endpoint-secret.ts).
 */
import { Agent, request } from 'undici';
import { isFusionError } from '../../../helper/errors.js';
import { injectTraceContext } from '../../../helper/telemetry.js';
import { FUSION_VERSION } from '../../../helper/version.js';
import type { AddressPolicy } from './address-policy.js';
import { checkLiteralHost, guardedLookup } from './guarded-lookup.js';
import { secretKey, signWebhook } from '../../../helper/webhook-signature.js';
import { endpointKey } from './endpoint-secret.js';

/** What one attempt came to. */
export type AttemptOutcome =
  | { kind: 'delivered'; status: number }
  | { kind: 'gone'; status: 410 }
  | { kind: 'retry'; error: string }
  | { kind: 'refused'; error: string };

/** What an attempt sends. */
export interface WebhookMessage {
  url: string;
  webhookId: string;
  body: string;
  /** The guid of the event's case (derives an untrusted endpoint's key); null: unsigned. */
  caseGuid?: string | null;
}

/** Options of WebhookSender. */
export interface WebhookSenderOptions {
  policy: AddressPolicy;
  /** Milliseconds one attempt may take, connection included. */
  timeoutMs: number;
  /** `whsec_` secrets; none: no webhook-signature header. */
  secrets: readonly string[];
  /** Sent as X-Fusion-Notifier-Token to trusted destinations when set. */
  apiKey?: string;
  /** Normalized URLs that get the token and the global signatures (the global webhook, `trusted_webhooks`). */
  trusted?: readonly string[];
}

/** Largest answer body read (and thrown away) before the connection is reused. */
const MAX_ANSWER_BYTES = 64 * 1024;

/** Sends webhook attempts; `close()` ends its connections. */
export class WebhookSender {
  readonly #agent: Agent;
  readonly #policy: AddressPolicy;
  readonly #keys: Buffer[];
  readonly #secrets: readonly string[];
  readonly #trusted: ReadonlySet<string>;
  readonly #timeoutMs: number;
  readonly #apiKey: string | undefined;

  constructor(options: WebhookSenderOptions) {
    this.#policy = options.policy;
    this.#keys = options.secrets.map(secretKey);
    this.#secrets = options.secrets;
    this.#trusted = new Set(options.trusted ?? []);
    this.#timeoutMs = options.timeoutMs;
    this.#apiKey = options.apiKey;
    this.#agent = new Agent({
      connect: { lookup: guardedLookup(options.policy), timeout: options.timeoutMs },
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
  }

  /** The headers of one attempt at `timestamp` (seconds since the epoch). */
  headers(message: WebhookMessage, timestamp: number): Record<string, string> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': `fusion-webhook/${FUSION_VERSION}`,
      'webhook-id': message.webhookId,
      'webhook-timestamp': String(timestamp),
    };
    const trusted = this.#trusted.has(message.url);
    const keys = trusted ? this.#keys : this.#endpointKeys(message);
    if (keys.length > 0) headers['webhook-signature'] = signWebhook(keys, message.webhookId, timestamp, message.body);
    if (trusted && this.#apiKey !== undefined) headers['x-fusion-notifier-token'] = this.#apiKey;
    return injectTraceContext(headers);
  }

  /** The derived keys of an untrusted (case) endpoint: one per global secret; none without a case. */
  #endpointKeys(message: WebhookMessage): Buffer[] {
    const caseGuid = message.caseGuid;
    if (caseGuid === undefined || caseGuid === null) return [];
    return this.#secrets.map((secret) => endpointKey(secret, caseGuid, message.url));
  }

  /** Makes one attempt; never throws (every failure is an outcome). */
  async send(message: WebhookMessage, signal?: AbortSignal): Promise<AttemptOutcome> {
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const combined = signal === undefined ? timeout : AbortSignal.any([timeout, signal]);
    try {
      checkLiteralHost(this.#policy, new URL(message.url).hostname);
      const answer = await request(message.url, {
        method: 'POST',
        dispatcher: this.#agent,
        headers: this.headers(message, Math.floor(Date.now() / 1000)),
        body: message.body,
        signal: combined,
      });
      await answer.body.dump({ limit: MAX_ANSWER_BYTES }).catch(() => undefined);
      if (answer.statusCode >= 200 && answer.statusCode < 300) return { kind: 'delivered', status: answer.statusCode };
      if (answer.statusCode === 410) return { kind: 'gone', status: 410 };
      return { kind: 'retry', error: `HTTP ${answer.statusCode}` };
    } catch (error) {
      const refused = findRefusal(error);
      if (refused !== null) return { kind: 'refused', error: refused };
      if (timeout.aborted) return { kind: 'retry', error: `no answer within ${this.#timeoutMs / 1000} s` };
      if (signal?.aborted) return { kind: 'retry', error: 'attempt cut short by shutdown' };
      return { kind: 'retry', error: describeError(error) };
    }
  }

  /** Closes the connections. */
  async close(): Promise<void> {
    await this.#agent.close();
  }
}

/** The message of a FUSION_ERR_WEBHOOK_REFUSED in `error` or its causes, else null. */
function findRefusal(error: unknown): string | null {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth += 1) {
    if (isFusionError(e) && e.code === 'FUSION_ERR_WEBHOOK_REFUSED') return e.message;
  }
  return null;
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${typeof code === 'string' ? `${code} ` : ''}${error.message}${cause}`.slice(0, 500);
}
