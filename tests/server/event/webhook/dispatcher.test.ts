import { afterEach, describe, expect, it } from '@jest/globals';
import { createWebhookReceiver } from '../../../../src/client/webhook-receiver.js';
import { Event } from '../../../../src/concept/index.js';
import { createLogger } from '../../../../src/helper/logging.js';
import type { FusionWebhookConfig } from '../../../../src/server/event/webhook/config.js';
import { endpointSecret } from '../../../../src/server/event/webhook/endpoint-secret.js';
import { createWebhookDispatcher } from '../../../../src/server/event/webhook/dispatcher.js';
import type { WebhookDispatcher } from '../../../../src/server/event/webhook/dispatcher.js';
import type { FusionLogger } from '../../../../src/helper/logging.js';
import { clearStorage, describeStorage } from '../../../helpers/storage.js';
import type { TestReceiver } from './harness.js';
import { deliveriesOf, enqueueEvent, newSecret, recordingLogger, startReceiver, testEvent, testWebhookConfig, waitFor } from './harness.js';

const quiet = createLogger({ level: 'silent' });

describeStorage('WebhookDispatcher', (getStorage) => {
  const dispatchers: WebhookDispatcher[] = [];
  const receivers: TestReceiver[] = [];

  function dispatcher(overrides: Partial<FusionWebhookConfig> = {}, logger: FusionLogger = quiet, closeGraceMs?: number): WebhookDispatcher {
    const created = createWebhookDispatcher(testWebhookConfig(overrides), { storage: getStorage(), logger }, closeGraceMs === undefined ? {} : { closeGraceMs });
    dispatchers.push(created);
    return created;
  }

  async function receiver(answer?: TestReceiver['answer']): Promise<TestReceiver> {
    const started = await startReceiver(answer);
    receivers.push(started);
    return started;
  }

  afterEach(async () => {
    await Promise.all(dispatchers.splice(0).map((d) => d.close()));
    await Promise.all(receivers.splice(0).map((r) => r.close()));
    await clearStorage(getStorage());
  });

  it('delivers exactly once, signed, to a receiver failing the first 3 attempts', async () => {
    const secret = newSecret();
    const answers = [503, 'reset', 500] as const;
    const hook = await receiver((i) => answers[i] ?? 200);
    // A destination the operator lists: it gets the token and the global signature.
    const d = dispatcher({ secrets: [secret], apiKey: 'notifier-token', trusted: [hook.url] });
    await d.start();
    const event = testEvent([hook.url]);
    const id = await enqueueEvent(getStorage(), d, event);
    await waitFor(async () => (await deliveriesOf(getStorage(), id))[0]?.status === 'delivered', 15_000, 'delivered');
    expect(hook.requests).toHaveLength(4);
    expect(hook.requests.filter((r) => r.status >= 200 && r.status < 300)).toHaveLength(1);
    expect(new Set(hook.requests.map((r) => r.headers['webhook-id'])).size).toBe(1);
    expect(hook.requests[0]!.headers['webhook-id']).toMatch(new RegExp(`^evt_${id}_[0-9a-f]{16}$`));
    const verifier = createWebhookReceiver({ secret, apiKey: 'notifier-token' });
    for (const request of hook.requests) {
      const received = verifier.verify(request.headers, request.body);
      expect(received.equals(event)).toBe(true);
      verifier.forget(String(request.headers['webhook-id']));
    }
    const last = hook.requests[3]!;
    expect(last.method).toBe('POST');
    expect(last.url).toBe('/hook');
    expect(last.headers['content-type']).toBe('application/json');
    expect(last.headers['x-fusion-notifier-token']).toBe('notifier-token');
    expect(Event.fromJSON(JSON.parse(last.body)).toJSON()).toEqual(event.toJSON());
    const [row] = await deliveriesOf(getStorage(), id);
    expect(row).toMatchObject({ status: 'delivered', attempt: 4, last_error: null });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(hook.requests).toHaveLength(4);
  });

  it('sends to the global webhook and each case webhook once, skipping malformed URLs', async () => {
    const global = await receiver();
    const other = await receiver();
    const { logger, lines } = recordingLogger();
    const d = dispatcher({ webhook: global.url }, logger);
    const event = testEvent([other.url, global.url, `${other.url}#frag`, 'ftp://example.com/x', 'not a url']);
    const id = await enqueueEvent(getStorage(), d, event);
    expect((await deliveriesOf(getStorage(), id)).map((r) => r.url).sort()).toEqual([global.url, other.url].sort());
    expect(lines.filter((l) => l.msg === 'webhook: invalid case webhook URL skipped')).toHaveLength(2);
    await d.start();
    await waitFor(() => global.requests.length === 1 && other.requests.length === 1, 10_000, 'both receivers');
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect([global.requests.length, other.requests.length]).toEqual([1, 1]);
  });

  it('writes nothing when the event transaction rolls back', async () => {
    const hook = await receiver();
    const d = dispatcher();
    await d.start();
    await expect(
      getStorage().knex.transaction(async (trx) => {
        await d.enqueue(trx, { id: '424242', event: testEvent([hook.url]), createdAt: new Date() });
        throw new Error('event insert failed');
      }),
    ).rejects.toThrow('event insert failed');
    expect(await deliveriesOf(getStorage(), '424242')).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(hook.requests).toHaveLength(0);
  });

  it('disables an endpoint answering 410 Gone and drops its pending deliveries', async () => {
    const gone = await receiver(() => 410);
    const { logger, lines } = recordingLogger();
    const d = dispatcher({ concurrency: 1 }, logger);
    const ids = [];
    for (let i = 0; i < 3; i += 1) ids.push(await enqueueEvent(getStorage(), d, testEvent([gone.url])));
    await d.start();
    await waitFor(async () => (await d.disabledEndpoints()).length === 1, 10_000, 'endpoint disabled');
    const statuses = (await Promise.all(ids.map((id) => deliveriesOf(getStorage(), id)))).map((rows) => rows[0]!.status);
    expect(statuses.sort()).toEqual(['disabled', 'disabled', 'disabled']);
    expect(gone.requests).toHaveLength(1);
    expect(lines.find((l) => String(l.msg).includes('410 Gone'))).toMatchObject({ url: gone.url, dropped: 3, level: 40 });
    expect(await d.disabledEndpoints()).toEqual([expect.objectContaining({ url: gone.url, reason: 'answered 410 Gone' })]);
    // New events skip the disabled endpoint, until it is enabled again.
    const later = await enqueueEvent(getStorage(), d, testEvent([gone.url]));
    expect(await deliveriesOf(getStorage(), later)).toEqual([]);
    gone.answer = () => 200;
    expect(await d.enableEndpoint(gone.url)).toBe(true);
    const again = await enqueueEvent(getStorage(), d, testEvent([gone.url]));
    await waitFor(async () => (await deliveriesOf(getStorage(), again))[0]?.status === 'delivered', 10_000, 'delivered after enable');
    expect(gone.requests).toHaveLength(2);
  });

  it('fails a delivery past its deadline and disables the endpoint that failed all along', async () => {
    const down = await receiver(() => 500);
    const { logger, lines } = recordingLogger();
    const d = dispatcher({ deadline: 0.4 }, logger);
    await d.start();
    const id = await enqueueEvent(getStorage(), d, testEvent([down.url]));
    await waitFor(async () => (await deliveriesOf(getStorage(), id))[0]?.status === 'failed', 10_000, 'failed');
    const [row] = await deliveriesOf(getStorage(), id);
    expect(row!.attempt).toBeGreaterThan(1);
    expect(row!.last_error).toBe('HTTP 500');
    const disabled = await waitFor(async () => (await d.disabledEndpoints()).find((e) => e.url === down.url), 5000, 'endpoint disabled');
    expect(disabled.reason).toMatch(/failed every attempt since .* \(deadline 0.4 s\); last error: HTTP 500/);
    expect(lines.find((l) => String(l.msg).startsWith('webhook endpoint disabled'))).toMatchObject({ url: down.url, level: 50 });
    const seen = down.requests.length;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(down.requests).toHaveLength(seen);
  });

  it('keeps an endpoint enabled when only one delivery fails past its deadline', async () => {
    const picky = await receiver((_i, request) => (request.body.includes('"poison"') ? 400 : 200));
    const d = dispatcher({ deadline: 2 });
    await d.start();
    const bad = await enqueueEvent(getStorage(), d, testEvent([picky.url], 'poison'));
    const good = await enqueueEvent(getStorage(), d, testEvent([picky.url]));
    await waitFor(async () => (await deliveriesOf(getStorage(), good))[0]?.status === 'delivered', 10_000, 'good delivered');
    await waitFor(async () => (await deliveriesOf(getStorage(), bad))[0]?.status === 'failed', 10_000, 'poison failed');
    expect(await d.disabledEndpoints()).toEqual([]);
  });

  it('refuses loopback destinations unless webhook_allow lists them (IP literal and resolved name)', async () => {
    const hook = await receiver();
    const { logger, lines } = recordingLogger();
    const d = dispatcher({ allow: [] }, logger);
    await d.start();
    // An IP literal is refused when the event is stored; a name when it resolves, at delivery.
    const literal = await enqueueEvent(getStorage(), d, testEvent([hook.url]));
    expect(await deliveriesOf(getStorage(), literal)).toEqual([]);
    expect(lines.find((l) => l.msg === 'webhook: invalid case webhook URL skipped')).toMatchObject({
      err: expect.objectContaining({ code: 'FUSION_ERR_WEBHOOK_REFUSED', message: expect.stringContaining('127.0.0.1 is a loopback address') }),
    });
    const named = await enqueueEvent(getStorage(), d, testEvent([`http://localhost:${hook.port}/hook`]));
    await waitFor(async () => (await deliveriesOf(getStorage(), named))[0]?.status === 'failed', 10_000, 'name refused');
    expect((await deliveriesOf(getStorage(), named))[0]!.last_error).toMatch(/localhost refused: it resolves to a non-public address \((127\.0\.0\.1|::1) is a loopback address\)/);
    expect(hook.requests).toHaveLength(0);
    expect(lines.filter((l) => l.msg === 'webhook refused by the SSRF guard: delivery failed')).toHaveLength(1);
    expect(await d.disabledEndpoints()).toEqual([]);
    // Allowed by name: the connection goes to the address the guard resolved.
    const allowed = dispatcher({ allow: ['localhost'] });
    await allowed.start();
    const ok = await enqueueEvent(getStorage(), allowed, testEvent([`http://localhost:${hook.port}/hook`]));
    await waitFor(async () => (await deliveriesOf(getStorage(), ok))[0]?.status === 'delivered', 10_000, 'delivered by name');
    expect(hook.requests).toHaveLength(1);
  });

  it('signs with every secret during a rotation', async () => {
    const [oldSecret, newSecret_] = [newSecret(), newSecret()];
    const hook = await receiver();
    const d = dispatcher({ secrets: [oldSecret, newSecret_] });
    await d.start();
    const event = testEvent([hook.url]);
    await enqueueEvent(getStorage(), d, event);
    await waitFor(() => hook.requests.length === 1, 10_000, 'request');
    const request = hook.requests[0]!;
    expect(String(request.headers['webhook-signature']).split(' ')).toHaveLength(2);
    // A case URL: signed with its own secret derived from each global one.
    const own = (global: string): string => endpointSecret(global, event.case!.guid, hook.url);
    expect(createWebhookReceiver({ secret: own(oldSecret) }).verify(request.headers, request.body).equals(event)).toBe(true);
    expect(createWebhookReceiver({ secret: own(newSecret_) }).verify(request.headers, request.body).equals(event)).toBe(true);
    expect(() => createWebhookReceiver({ secret: oldSecret }).verify(request.headers, request.body)).toThrow();
    expect(() => createWebhookReceiver({ secret: newSecret() }).verify(request.headers, request.body)).toThrow(
      expect.objectContaining({ code: 'FUSION_ERR_WEBHOOK_SIGNATURE' }),
    );
  });

  it('retries an attempt that gets no answer within the timeout', async () => {
    const hook = await receiver((i) => (i === 0 ? 'hang' : 200));
    const d = dispatcher({ timeout: 1 });
    await d.start();
    const id = await enqueueEvent(getStorage(), d, testEvent([hook.url]));
    await waitFor(async () => (await deliveriesOf(getStorage(), id))[0]?.status === 'delivered', 10_000, 'delivered');
    expect(hook.requests).toHaveLength(2);
    expect((await deliveriesOf(getStorage(), id))[0]!.attempt).toBe(2);
  });

  it('leaves deliveries to the next start, and hands back an attempt cut by close()', async () => {
    const hook = await receiver(() => 'hang');
    const first = dispatcher({ timeout: 30 }, quiet, 50);
    await first.start();
    const id = await enqueueEvent(getStorage(), first, testEvent([hook.url]));
    await waitFor(() => hook.requests.length === 1, 10_000, 'first attempt');
    await first.close();
    const [row] = await deliveriesOf(getStorage(), id);
    expect(row).toMatchObject({ status: 'pending', attempt: 1, last_error: 'attempt cut short by shutdown' });
    const due = await getStorage().knex('fusion_webhook_delivery').where({ event_id: id }).where('next_attempt_at', '<=', getStorage().knex.fn.now()).first();
    expect(due).toBeDefined(); // due at once, not after the 61 s lease
    hook.answer = () => 200;
    const second = dispatcher();
    await second.start();
    await waitFor(async () => (await deliveriesOf(getStorage(), id))[0]?.status === 'delivered', 10_000, 'delivered by the next instance');
    expect(hook.requests.filter((r) => r.status === 200)).toHaveLength(1);
  });
});

describe('createWebhookDispatcher', () => {
  it('needs no storage until used', () => {
    const host = {
      get storage(): never {
        throw new Error('not open');
      },
      logger: quiet,
    };
    expect(() => createWebhookDispatcher(testWebhookConfig(), host)).not.toThrow();
  });
});
