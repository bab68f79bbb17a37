import type { LookupAddress, lookup as dnsLookup } from 'node:dns';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createWebhookReceiver } from '../../../../src/client/webhook-receiver.js';
import { AddressPolicy } from '../../../../src/server/event/webhook/address-policy.js';
import { guardedLookup } from '../../../../src/server/event/webhook/guarded-lookup.js';
import { endpointSecret } from '../../../../src/server/event/webhook/endpoint-secret.js';
import { WebhookSender } from '../../../../src/server/event/webhook/webhook-sender.js';
import { FUSION_VERSION } from '../../../../src/helper/version.js';
import { newSecret, startReceiver, testEvent } from './harness.js';
import type { TestReceiver } from './harness.js';

describe('WebhookSender', () => {
  const secret = newSecret();
  let hook: TestReceiver;
  let sender: WebhookSender;
  const loopback = new AddressPolicy(['127.0.0.0/8']);

  beforeAll(async () => {
    hook = await startReceiver();
    sender = new WebhookSender({ policy: loopback, timeoutMs: 5000, secrets: [secret], apiKey: 'tok', trusted: [hook.url] });
  });

  afterAll(async () => {
    await sender.close();
    await hook.close();
  });

  const message = (url = hook.url) => ({ url, webhookId: 'evt_1_abc', body: JSON.stringify(testEvent().toJSON()) });

  it('POSTs the body with the token and Standard Webhooks headers', async () => {
    hook.answer = () => 204;
    const sent = message();
    expect(await sender.send(sent)).toEqual({ kind: 'delivered', status: 204 });
    const request = hook.requests.at(-1)!;
    expect(request.body).toBe(sent.body);
    expect(request.headers).toMatchObject({
      'content-type': 'application/json',
      'user-agent': `fusion-webhook/${FUSION_VERSION}`,
      'x-fusion-notifier-token': 'tok',
      'webhook-id': 'evt_1_abc',
      'webhook-timestamp': expect.stringMatching(/^\d{10}$/),
      'webhook-signature': expect.stringMatching(/^v1,[A-Za-z0-9+/]{43}=$/),
    });
    expect(createWebhookReceiver({ secret, apiKey: 'tok' }).verify(request.headers, request.body).category).toBe('update_case');
  });

  it('gives an untrusted (case) URL no token and a signature with its derived secret only', async () => {
    hook.answer = () => 200;
    const event = testEvent();
    const untrusted = `${hook.url}?case`;
    expect((await sender.send({ ...message(untrusted), body: JSON.stringify(event.toJSON()), caseGuid: event.case!.guid })).kind).toBe('delivered');
    const request = hook.requests.at(-1)!;
    expect(request.headers['x-fusion-notifier-token']).toBeUndefined();
    expect(() => createWebhookReceiver({ secret }).verify(request.headers, request.body)).toThrow();
    const own = endpointSecret(secret, event.case!.guid, untrusted);
    expect(createWebhookReceiver({ secret: own }).verify(request.headers, request.body).case.guid).toBe(event.case!.guid);
    expect((await sender.send(message(untrusted))).kind).toBe('delivered');
    expect(hook.requests.at(-1)!.headers['webhook-signature']).toBeUndefined();
  });

  it('leaves out the signature and token when none is configured', async () => {
    hook.answer = () => 200;
    const bare = new WebhookSender({ policy: loopback, timeoutMs: 500, secrets: [] });
    try {
      expect((await bare.send(message())).kind).toBe('delivered');
    } finally {
      await bare.close();
    }
    const { headers } = hook.requests.at(-1)!;
    expect(headers['webhook-signature']).toBeUndefined();
    expect(headers['x-fusion-notifier-token']).toBeUndefined();
    expect(headers['webhook-id']).toBe('evt_1_abc');
  });

  it('classifies answers and failures', async () => {
    hook.answer = () => 410;
    expect(await sender.send(message())).toEqual({ kind: 'gone', status: 410 });
    hook.answer = () => 503;
    expect(await sender.send(message())).toEqual({ kind: 'retry', error: 'HTTP 503' });
    hook.answer = () => 301; // redirects are not followed
    expect(await sender.send(message())).toEqual({ kind: 'retry', error: 'HTTP 301' });
    hook.answer = () => 'reset';
    expect(await sender.send(message())).toMatchObject({ kind: 'retry', error: expect.stringMatching(/socket|closed|ECONNRESET/i) });
    hook.answer = () => 'hang';
    const impatient = new WebhookSender({ policy: loopback, timeoutMs: 300, secrets: [] });
    try {
      expect(await impatient.send(message())).toEqual({ kind: 'retry', error: 'no answer within 0.3 s' });
    } finally {
      await impatient.close();
    }
    const shutdown = new AbortController();
    const cut = sender.send(message(), shutdown.signal);
    setTimeout(() => shutdown.abort(), 50);
    expect(await cut).toEqual({ kind: 'retry', error: 'attempt cut short by shutdown' });
    expect(await sender.send(message('http://127.0.0.1:1/closed'))).toMatchObject({ kind: 'retry', error: expect.stringContaining('ECONNREFUSED') });
  });

  it('refuses destinations outside the policy, before connecting', async () => {
    hook.answer = () => 200;
    const strict = new WebhookSender({ policy: new AddressPolicy(), timeoutMs: 500, secrets: [] });
    const before = hook.requests.length;
    try {
      expect(await strict.send(message())).toMatchObject({ kind: 'refused', error: expect.stringContaining('127.0.0.1 is a loopback address') });
      expect(await strict.send(message(`http://localhost:${hook.port}/hook`))).toMatchObject({ kind: 'refused', error: expect.stringContaining('localhost refused') });
      expect(await strict.send(message(`http://[::ffff:127.0.0.1]:${hook.port}/hook`))).toMatchObject({ kind: 'refused' });
    } finally {
      await strict.close();
    }
    expect(hook.requests.length).toBe(before);
  });
});

describe('guardedLookup', () => {
  const answers = (list: LookupAddress[]) =>
    ((_host: string, _options: unknown, callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) =>
      callback(null, list)) as unknown as typeof dnsLookup;

  function run(lookup: ReturnType<typeof guardedLookup>, all: boolean): Promise<{ error: unknown; address: unknown; family?: number }> {
    return new Promise((resolve) => lookup('hooks.example', { all }, (error, address, family) => resolve({ error, address, family })));
  }

  it('refuses a name when any of its addresses is not public (e.g. a rebinding answer)', async () => {
    const lookup = guardedLookup(new AddressPolicy(), answers([{ address: '93.184.216.34', family: 4 }, { address: '10.0.0.5', family: 4 }]));
    const { error } = await run(lookup, true);
    expect(error).toMatchObject({ code: 'FUSION_ERR_WEBHOOK_REFUSED', message: expect.stringContaining('10.0.0.5 is a private address') });
  });

  it('hands over the checked addresses, in the form asked for', async () => {
    const list = [{ address: '93.184.216.34', family: 4 }, { address: '2606:2800:220:1::1', family: 6 }];
    const lookup = guardedLookup(new AddressPolicy(), answers(list));
    expect(await run(lookup, true)).toEqual({ error: null, address: list, family: undefined });
    expect(await run(lookup, false)).toEqual({ error: null, address: '93.184.216.34', family: 4 });
    const named = guardedLookup(new AddressPolicy(['hooks.example']), answers([{ address: '10.0.0.5', family: 4 }]));
    expect(await run(named, false)).toEqual({ error: null, address: '10.0.0.5', family: 4 });
  });

  it('reports names without addresses', async () => {
    const { error } = await run(guardedLookup(new AddressPolicy(), answers([])), true);
    expect(error).toMatchObject({ code: 'ENOTFOUND' });
  });
});
