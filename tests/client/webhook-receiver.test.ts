import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from '@jest/globals';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { request } from 'undici';
import { createWebhookReceiver } from '../../src/client/webhook-receiver.js';
import { Case, Event, field } from '../../src/concept/index.js';
import { secretKey, signWebhook } from '../../src/helper/webhook-signature.js';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const OTHER = `whsec_${randomBytes(32).toString('base64')}`;

function event(name = 'received'): Event {
  return new Event({ source: 'sender', category: 'update_case', case: new Case({ name }) });
}

let counter = 0;

/** Headers and body as a Fusion sender makes them. */
function signed(
  body: string,
  options: { secrets?: string[]; id?: string; timestamp?: number; token?: string } = {},
): { headers: Record<string, string>; body: string } {
  const id = options.id ?? `evt_${++counter}_${randomBytes(4).toString('hex')}`;
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const keys = (options.secrets ?? [SECRET]).map(secretKey);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signWebhook(keys, id, timestamp, body),
  };
  if (options.token !== undefined) headers['x-fusion-notifier-token'] = options.token;
  return { headers, body };
}

const code = (c: string) => expect.objectContaining({ code: c });

describe('createWebhookReceiver().verify', () => {
  it('accepts a signed event and decodes it', () => {
    const sent = event();
    const { headers, body } = signed(JSON.stringify(sent.toJSON()));
    const received = createWebhookReceiver({ secret: SECRET }).verify(headers, body);
    expect(received).toBeInstanceOf(Event);
    expect(received.equals(sent)).toBe(true);
    // bytes, fetch Headers and mixed-case keys work the same
    const again = signed(body);
    expect(createWebhookReceiver({ secret: SECRET }).verify(new Headers(again.headers), Buffer.from(again.body)).equals(sent)).toBe(true);
    const upper = Object.fromEntries(Object.entries(signed(body).headers).map(([k, v]) => [k.toUpperCase(), v]));
    expect(createWebhookReceiver({ secret: SECRET }).verify(upper, body).equals(sent)).toBe(true);
  });

  it('checks signatures as the Standard Webhooks reference vector does', () => {
    const receiver = createWebhookReceiver({ secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' });
    const headers = {
      'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      'webhook-timestamp': '1614265330',
      'webhook-signature': 'v1,bm9wZQ== v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    };
    // The signature holds (so the 2021 timestamp is what fails); a changed body does not.
    expect(() => receiver.verify(headers, '{"test": 2432232314}')).toThrow(code('FUSION_ERR_WEBHOOK_TIMESTAMP'));
    expect(() => receiver.verify(headers, '{"test": 2432232315}')).toThrow(code('FUSION_ERR_WEBHOOK_SIGNATURE'));
  });

  it('rejects a tampered body, a bad or missing signature, and missing headers', () => {
    const receiver = createWebhookReceiver({ secret: SECRET });
    const { headers, body } = signed(JSON.stringify(event().toJSON()));
    expect(() => receiver.verify(headers, body.replace('received', 'receivee'))).toThrow(code('FUSION_ERR_WEBHOOK_SIGNATURE'));
    expect(() => receiver.verify({ ...headers, 'webhook-signature': 'v1,AAAA' }, body)).toThrow(code('FUSION_ERR_WEBHOOK_SIGNATURE'));
    expect(() => receiver.verify({ ...headers, 'webhook-signature': headers['webhook-signature']!.replace('v1,', 'v2,') }, body)).toThrow(
      code('FUSION_ERR_WEBHOOK_SIGNATURE'),
    );
    expect(() => createWebhookReceiver({ secret: OTHER }).verify(headers, body)).toThrow(code('FUSION_ERR_WEBHOOK_SIGNATURE'));
    for (const name of ['webhook-id', 'webhook-signature']) {
      const { [name]: _dropped, ...rest } = headers;
      expect(() => receiver.verify(rest, body)).toThrow(code('FUSION_ERR_WEBHOOK_SIGNATURE'));
    }
    const { 'webhook-timestamp': _t, ...noTimestamp } = headers;
    expect(() => receiver.verify(noTimestamp, body)).toThrow(code('FUSION_ERR_WEBHOOK_TIMESTAMP'));
    // The id and timestamp are signed too.
    expect(() => receiver.verify({ ...headers, 'webhook-id': 'evt_other' }, body)).toThrow(code('FUSION_ERR_WEBHOOK_SIGNATURE'));
    expect(() => receiver.verify({ ...headers, 'webhook-timestamp': String(Number(headers['webhook-timestamp']) + 1) }, body)).toThrow(
      code('FUSION_ERR_WEBHOOK_SIGNATURE'),
    );
    // Nothing refused was remembered: the genuine message still goes through.
    expect(receiver.verify(headers, body)).toBeInstanceOf(Event);
  });

  it('rejects stale and future timestamps beyond the tolerance', () => {
    const receiver = createWebhookReceiver({ secret: SECRET, tolerance: 60 });
    const body = JSON.stringify(event().toJSON());
    const now = Math.floor(Date.now() / 1000);
    const stale = signed(body, { timestamp: now - 120 });
    expect(() => receiver.verify(stale.headers, body)).toThrow(/webhook-timestamp is 12\d s ago, beyond the tolerance of 60 s/);
    const future = signed(body, { timestamp: now + 120 });
    expect(() => receiver.verify(future.headers, body)).toThrow(code('FUSION_ERR_WEBHOOK_TIMESTAMP'));
    expect(receiver.verify(signed(body, { timestamp: now - 30 }).headers, body)).toBeInstanceOf(Event);
  });

  it('rejects a replay until the id is forgotten', () => {
    const receiver = createWebhookReceiver({ secret: SECRET });
    const { headers, body } = signed(JSON.stringify(event().toJSON()));
    receiver.verify(headers, body);
    expect(() => receiver.verify(headers, body)).toThrow(code('FUSION_ERR_WEBHOOK_REPLAY'));
    // A retry carries the same id with a new timestamp and signature: still a duplicate.
    const retry = signed(body, { id: headers['webhook-id']!, timestamp: Number(headers['webhook-timestamp']) + 1 });
    expect(() => receiver.verify(retry.headers, body)).toThrow(code('FUSION_ERR_WEBHOOK_REPLAY'));
    receiver.forget(headers['webhook-id']!);
    expect(receiver.verify(retry.headers, body)).toBeInstanceOf(Event);
  });

  it('remembers at most maxSeen ids, forgetting the oldest', () => {
    const receiver = createWebhookReceiver({ secret: SECRET, maxSeen: 2 });
    const body = JSON.stringify(event().toJSON());
    const messages = [signed(body), signed(body), signed(body)];
    for (const m of messages) receiver.verify(m.headers, body);
    expect(() => receiver.verify(messages[2]!.headers, body)).toThrow(code('FUSION_ERR_WEBHOOK_REPLAY'));
    expect(receiver.verify(messages[0]!.headers, body)).toBeInstanceOf(Event);
  });

  it('accepts any of several secrets (rotation) and any of several signatures', () => {
    const body = JSON.stringify(event().toJSON());
    const receiver = createWebhookReceiver({ secrets: [OTHER, SECRET] });
    expect(receiver.verify(signed(body, { secrets: [SECRET] }).headers, body)).toBeInstanceOf(Event);
    expect(receiver.verify(signed(body, { secrets: [OTHER] }).headers, body)).toBeInstanceOf(Event);
    const third = `whsec_${randomBytes(32).toString('base64')}`;
    expect(createWebhookReceiver({ secret: third }).verify(signed(body, { secrets: [SECRET, third] }).headers, body)).toBeInstanceOf(Event);
  });

  it('checks X-Fusion-Notifier-Token when apiKey is set', () => {
    const receiver = createWebhookReceiver({ secret: SECRET, apiKey: 'token-1' });
    const body = JSON.stringify(event().toJSON());
    expect(() => receiver.verify(signed(body).headers, body)).toThrow(code('FUSION_ERR_WEBHOOK_SIGNATURE'));
    expect(() => receiver.verify(signed(body, { token: 'token-2' }).headers, body)).toThrow(/X-Fusion-Notifier-Token/);
    expect(receiver.verify(signed(body, { token: 'token-1' }).headers, body)).toBeInstanceOf(Event);
  });

  it('refuses signed bodies that are not events, and decodes subclasses', () => {
    const receiver = createWebhookReceiver({ secret: SECRET });
    expect(() => receiver.verify(signed('not json').headers, 'not json')).toThrow(code('FUSION_ERR_BAD_JSON'));
    expect(() => receiver.verify(signed('{"source": 1}').headers, '{"source": 1}')).toThrow(code('FUSION_ERR_CONCEPT_INVALID'));
    class ScanEvent extends Event.extend('ScanEvent', { priority: field.integer().default(1) }) {}
    const body = JSON.stringify({ ...event().toJSON(), priority: 3 });
    const decoded = createWebhookReceiver({ secret: SECRET, eventClass: ScanEvent }).verify(signed(body).headers, body);
    expect(decoded).toBeInstanceOf(ScanEvent);
    expect(decoded.priority).toBe(3);
  });

  it('checks its options', () => {
    expect(() => createWebhookReceiver({})).toThrow(/secret .* is required/);
    expect(() => createWebhookReceiver({ secret: 'whsec_short' })).toThrow(/at least 24 bytes|base64/);
    expect(() => createWebhookReceiver({ secret: 'whsec_!!!!' })).toThrow(/base64/);
    expect(() => createWebhookReceiver({ secret: SECRET, secrets: [SECRET] })).toThrow(/not both/);
    expect(() => createWebhookReceiver({ secret: SECRET, tolerance: 0 })).toThrow(/tolerance/);
    expect(() => createWebhookReceiver({ secret: SECRET, maxSeen: 0 })).toThrow(/maxSeen/);
    // the whsec_ prefix is optional, as in the Standard Webhooks libraries
    expect(() => createWebhookReceiver({ secret: SECRET.slice(6) })).not.toThrow();
  });
});

describe('createWebhookReceiver().plugin', () => {
  let app: FastifyInstance | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function serve(handler: (e: Event) => unknown): Promise<string> {
    app = Fastify();
    app.post('/api/other', async (req) => ({ parsed: req.body })); // JSON parsing outside the plugin is untouched
    await app.register(createWebhookReceiver({ secret: SECRET }).plugin, { prefix: '/hooks', path: '/fusion', handler });
    return app.listen({ host: '127.0.0.1', port: 0 });
  }

  async function post(url: string, message: { headers: Record<string, string>; body: string }): Promise<{ status: number; body: unknown }> {
    const answer = await request(url, { method: 'POST', headers: message.headers, body: message.body });
    return { status: answer.statusCode, body: await answer.body.json() };
  }

  it('hands each verified event to the handler once', async () => {
    const received: Event[] = [];
    const base = await serve((e) => void received.push(e));
    const sent = event('plugin');
    const message = signed(JSON.stringify(sent.toJSON()));
    expect(await post(`${base}/hooks/fusion`, message)).toEqual({ status: 200, body: { status: 200 } });
    expect(await post(`${base}/hooks/fusion`, message)).toEqual({ status: 200, body: { status: 200, data: 'duplicate' } });
    expect(received).toHaveLength(1);
    expect(received[0]!.equals(sent)).toBe(true);
    const tampered = { ...signed(message.body), body: message.body.replace('plugin', 'plugim') };
    expect(await post(`${base}/hooks/fusion`, tampered)).toMatchObject({ status: 401, body: { status: 401, code: 'FUSION_ERR_WEBHOOK_SIGNATURE' } });
    const stale = signed(message.body, { timestamp: Math.floor(Date.now() / 1000) - 3600 });
    expect(await post(`${base}/hooks/fusion`, stale)).toMatchObject({ status: 401, body: { code: 'FUSION_ERR_WEBHOOK_TIMESTAMP' } });
    expect(received).toHaveLength(1);
    const other = await request(`${base}/api/other`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    expect(await other.body.json()).toEqual({ parsed: { a: 1 } });
  });

  it('answers 500 when the handler throws, and accepts the retry', async () => {
    let calls = 0;
    const base = await serve(() => {
      calls += 1;
      if (calls === 1) throw new Error('database down');
    });
    const body = JSON.stringify(event().toJSON());
    const message = signed(body);
    expect(await post(`${base}/hooks/fusion`, message)).toEqual({ status: 500, body: { status: 500, message: 'internal error' } });
    const retry = signed(body, { id: message.headers['webhook-id']! });
    expect(await post(`${base}/hooks/fusion`, retry)).toEqual({ status: 200, body: { status: 200 } });
    expect(calls).toBe(2);
  });

  it('refuses registration without a handler', async () => {
    app = Fastify();
    await expect(app.register(createWebhookReceiver({ secret: SECRET }).plugin, {} as never)).rejects.toThrow(/handler must be a function/);
  });
});
