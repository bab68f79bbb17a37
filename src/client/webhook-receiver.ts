/**
 * Receiving Fusion webhooks: verifies Standard Webhooks signatures (`webhook-id`,
 * `webhook-timestamp`, `webhook-signature`), refuses stale or future timestamps and replays,
 * and decodes the body into an Event (or a subclass). Use `verify(headers, rawBody)` in any
 * HTTP framework, or register `plugin` in fastify. Replays are detected within the tolerance
 * window by an in-memory, per-process memory of seen ids: several receiver processes behind a
 * load balancer each keep their own, so dedupe by `webhook-id` in storage where a duplicate
 * would hurt.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { Event } from '../concept/index.js';
import { FusionError, isFusionError } from '../helper/errors.js';
import { webhookDigest } from '../helper/webhook-signature.js';

/** A class decoding the webhook body: Event or a subclass. */
export interface WebhookEventClass<E extends Event = Event> {
  readonly conceptName: string;
  fromJSON(data: unknown): E;
}

/** Options of createWebhookReceiver. */
export interface WebhookReceiverOptions<E extends Event = Event> {
  /** The sender's `event.secret` (`whsec_...`). */
  secret?: string;
  /** Several secrets (rotation): a message signed by any of them is accepted. */
  secrets?: readonly string[];
  /** Seconds a webhook-timestamp may differ from now, either way (default 300). */
  tolerance?: number;
  /** Class the body is decoded with (default Event). */
  eventClass?: WebhookEventClass<E>;
  /** When set, `X-Fusion-Notifier-Token` must equal it (the sender's `event.api_key`). */
  apiKey?: string;
  /** Most webhook-ids remembered for replay detection (default 10000; oldest forgotten first). */
  maxSeen?: number;
}

/** Request headers: node's `IncomingHttpHeaders` (lowercase keys) or a fetch `Headers`. */
export type WebhookHeaders = { get(name: string): string | null } | Readonly<Record<string, string | readonly string[] | undefined>>;

/** Options of the fastify plugin. */
export interface WebhookReceiverPluginOptions<E extends Event = Event> {
  /** Route path within the plugin's prefix (default `/`). */
  path?: string;
  /** Largest body accepted, in bytes (default 1 MiB). */
  bodyLimit?: number;
  /** Called once per verified, new webhook; a throw answers 500 and lets the sender retry. */
  handler: (event: E, context: { webhookId: string; request: FastifyRequest }) => unknown;
}

/** A verifier of Fusion webhooks and its fastify plugin. */
export interface WebhookReceiver<E extends Event = Event> {
  /**
   * Verifies one webhook and decodes it. Throws FusionError: FUSION_ERR_WEBHOOK_SIGNATURE (401:
   * missing or bad signature or token), FUSION_ERR_WEBHOOK_TIMESTAMP (401: missing, stale or
   * future), FUSION_ERR_WEBHOOK_REPLAY (409: id seen already), FUSION_ERR_BAD_JSON or
   * FUSION_ERR_CONCEPT_INVALID (400: a signed body that is not an event).
   */
  verify(headers: WebhookHeaders, rawBody: string | Uint8Array): E;
  /** Forgets a webhook-id, so that a retry of it is accepted (call it when handling failed). */
  forget(webhookId: string): void;
  /** POST route (`path`, default `/`) verifying the raw body: 200 once handled or on a replay, 401/400 when refused. */
  readonly plugin: FastifyPluginAsync<WebhookReceiverPluginOptions<E>>;
}

const MAX_ID_LENGTH = 256;

function decodeSecret(secret: unknown, index: number): Buffer {
  const where = `createWebhookReceiver: secrets[${index}]`;
  if (typeof secret !== 'string') throw new TypeError(`${where} must be a string (whsec_...)`);
  const encoded = secret.startsWith('whsec_') ? secret.slice(6) : secret;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 !== 0) throw new TypeError(`${where}: expected whsec_ followed by base64`);
  const key = Buffer.from(encoded, 'base64');
  if (key.length < 24) throw new TypeError(`${where}: the key must hold at least 24 bytes`);
  return key;
}

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof (headers as { get?: unknown }).get === 'function') {
    return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  }
  const record = headers as Readonly<Record<string, string | readonly string[] | undefined>>;
  const key = Object.keys(record).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : record[key];
  return Array.isArray(value) ? value[0] : (value as string | undefined);
}

function sameSecret(given: string, expected: Buffer): boolean {
  return timingSafeEqual(createHash('sha256').update(given).digest(), expected);
}

/** Builds a webhook verifier (and fastify plugin) for the given secrets. */
export function createWebhookReceiver<E extends Event = Event>(options: WebhookReceiverOptions<E>): WebhookReceiver<E> {
  if (typeof options !== 'object' || options === null) throw new TypeError('createWebhookReceiver: options must be an object');
  if (options.secret !== undefined && options.secrets !== undefined) throw new TypeError('createWebhookReceiver: give secret or secrets, not both');
  const secretList = options.secrets ?? (options.secret === undefined ? [] : [options.secret]);
  if (!Array.isArray(secretList) || secretList.length === 0) throw new TypeError('createWebhookReceiver: secret (whsec_...) is required');
  const keys = secretList.map((s: unknown, i) => decodeSecret(s, i));
  const tolerance = options.tolerance ?? 300;
  if (!(tolerance > 0) || !Number.isFinite(tolerance)) throw new TypeError('createWebhookReceiver: tolerance must be a positive number of seconds');
  const maxSeen = options.maxSeen ?? 10_000;
  if (!Number.isInteger(maxSeen) || maxSeen < 1) throw new TypeError('createWebhookReceiver: maxSeen must be a positive integer');
  if (options.apiKey !== undefined && (typeof options.apiKey !== 'string' || options.apiKey === '')) throw new TypeError('createWebhookReceiver: apiKey must be a non-empty string');
  const apiKeyDigest = options.apiKey === undefined ? null : createHash('sha256').update(options.apiKey).digest();
  const eventClass = options.eventClass ?? (Event as unknown as WebhookEventClass<E>);
  if (typeof eventClass?.fromJSON !== 'function') throw new TypeError('createWebhookReceiver: eventClass must be Event or a subclass');
  /** webhook-id -> when it may be forgotten (ms since the epoch); insertion order = age. */
  const seen = new Map<string, number>();

  const refuse = (code: 'FUSION_ERR_WEBHOOK_SIGNATURE' | 'FUSION_ERR_WEBHOOK_TIMESTAMP', message: string): FusionError => new FusionError(code, message);

  function checkSignature(id: string, timestamp: string, signatures: string, body: string | Uint8Array): void {
    const expected = keys.map((key) => webhookDigest(key, id, timestamp, body));
    for (const entry of signatures.split(' ')) {
      const [version, encoded] = entry.split(',', 2);
      if (version !== 'v1' || encoded === undefined) continue;
      const given = Buffer.from(encoded, 'base64');
      if (expected.some((digest) => given.length === digest.length && timingSafeEqual(given, digest))) return;
    }
    throw refuse('FUSION_ERR_WEBHOOK_SIGNATURE', 'webhook-signature matches none of the secrets: the body was changed or the secret differs');
  }

  function remember(id: string, timestampMs: number, nowMs: number): void {
    for (const [oldId, until] of seen) {
      if (until > nowMs && seen.size < maxSeen) break;
      seen.delete(oldId);
    }
    seen.set(id, Math.max(timestampMs, nowMs) + tolerance * 1000);
  }

  function verify(headers: WebhookHeaders, rawBody: string | Uint8Array): E {
    if (typeof rawBody !== 'string' && !(rawBody instanceof Uint8Array)) throw new TypeError('verify: rawBody must be the body as received (string or bytes)');
    const id = header(headers, 'webhook-id');
    const timestamp = header(headers, 'webhook-timestamp');
    const signatures = header(headers, 'webhook-signature');
    if (!id || id.length > MAX_ID_LENGTH) throw refuse('FUSION_ERR_WEBHOOK_SIGNATURE', 'webhook-id header missing or too long');
    if (!signatures) throw refuse('FUSION_ERR_WEBHOOK_SIGNATURE', 'webhook-signature header missing: is event.secret set on the sender?');
    if (!timestamp || !/^\d{1,12}$/.test(timestamp)) throw refuse('FUSION_ERR_WEBHOOK_TIMESTAMP', 'webhook-timestamp header missing or not whole seconds since the epoch');
    checkSignature(id, timestamp, signatures, rawBody);
    if (apiKeyDigest !== null && !sameSecret(header(headers, 'x-fusion-notifier-token') ?? '', apiKeyDigest)) {
      throw refuse('FUSION_ERR_WEBHOOK_SIGNATURE', 'X-Fusion-Notifier-Token missing or wrong: it must equal the sender\'s event.api_key');
    }
    const nowMs = Date.now();
    const sentMs = Number(timestamp) * 1000;
    const skew = Math.round((nowMs - sentMs) / 1000);
    if (Math.abs(nowMs - sentMs) > tolerance * 1000) {
      const when = skew > 0 ? `${skew} s ago` : `${-skew} s in the future`;
      throw refuse('FUSION_ERR_WEBHOOK_TIMESTAMP', `webhook-timestamp is ${when}, beyond the tolerance of ${tolerance} s`);
    }
    const until = seen.get(id);
    if (until !== undefined && until > nowMs) throw new FusionError('FUSION_ERR_WEBHOOK_REPLAY', `webhook ${id} was received already`);
    let data: unknown;
    try {
      data = JSON.parse(typeof rawBody === 'string' ? rawBody : Buffer.from(rawBody).toString('utf8'));
    } catch {
      throw new FusionError('FUSION_ERR_BAD_JSON', `webhook ${id}: the body is not JSON`);
    }
    const event = eventClass.fromJSON(data);
    remember(id, sentMs, nowMs);
    return event;
  }

  const plugin: FastifyPluginAsync<WebhookReceiverPluginOptions<E>> = async (app, pluginOptions) => {
    if (typeof pluginOptions?.handler !== 'function') throw new TypeError('webhook receiver plugin: options.handler must be a function');
    const bodyLimit = pluginOptions.bodyLimit ?? 1024 * 1024;
    // Scoped to this plugin: the body stays raw bytes, exactly what was signed.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_request, body, done) => done(null, body));
    app.post(pluginOptions.path ?? '/', { bodyLimit }, async (request, reply) => {
      const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      let event: E;
      try {
        event = verify(request.headers, raw);
      } catch (error) {
        if (isFusionError(error) && error.code === 'FUSION_ERR_WEBHOOK_REPLAY') return reply.code(200).send({ status: 200, data: 'duplicate' });
        const status = isFusionError(error) ? error.status : 400;
        const code = isFusionError(error) ? error.code : 'FUSION_ERR_BAD_REQUEST';
        request.log.warn({ err: error }, 'webhook refused');
        return reply.code(status).send({ status, message: (error as Error).message, code });
      }
      const webhookId = header(request.headers, 'webhook-id')!;
      try {
        await pluginOptions.handler(event, { webhookId, request });
      } catch (error) {
        forget(webhookId);
        request.log.error({ err: error, webhook_id: webhookId }, 'webhook handler failed');
        return reply.code(500).send({ status: 500, message: 'internal error' });
      }
      return reply.code(200).send({ status: 200 });
    });
  };

  function forget(webhookId: string): void {
    seen.delete(webhookId);
  }

  return { verify, forget, plugin };
}
