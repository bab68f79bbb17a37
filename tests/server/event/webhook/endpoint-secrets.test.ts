/**
 * Webhook secrets reach only the operator's destinations: a URL a user lists in a case gets
 * neither the notifier token nor a signature made with the global secret, but its own derived
 * secret, readable by those allowed to update the case.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createWebhookReceiver } from '../../../../src/client/webhook-receiver.js';
import { FusionClientError } from '../../../../src/client/errors.js';
import { endpointSecret } from '../../../../src/server/event/webhook/endpoint-secret.js';
import type { CaseWebhookSecret } from '../../../../src/server/event/webhook/case-webhook-secrets.js';
import type { KnexStorage } from '../../../../src/server/storage/knex-storage.js';
import type { TestServer } from '../../../../src/testing/index.js';
import { freshStorage } from '../../../helpers/storage.js';
import { silenceAudit, startCaseServer } from '../../case/helpers.js';
import { newSecret, startReceiver, waitFor } from './harness.js';
import type { TestReceiver } from './harness.js';

silenceAudit();

const secret = newSecret();
const TOKEN = 'notifier-token-of-the-operator';
let storage: KnexStorage;
let server: TestServer;
let global: TestReceiver;
let trusted: TestReceiver;
let attacker: TestReceiver;

beforeAll(async () => {
  storage = await freshStorage('pglite');
  [global, trusted, attacker] = await Promise.all([startReceiver(), startReceiver(), startReceiver()]);
  server = await startCaseServer(storage, {
    config: {
      event: {
        webhook: global.url,
        api_key: TOKEN,
        secret,
        trusted_webhooks: [trusted.url],
        webhook_allow: ['127.0.0.0/8'],
        backoff_base: 0.02,
        backoff_max: 0.1,
        webhook_poll_interval: 0.05,
      },
    },
  });
}, 60_000);

afterAll(async () => {
  await server?.close();
  await Promise.all([global?.close(), trusted?.close(), attacker?.close()]);
  await storage?.close();
});

describe('webhook secrets', () => {
  it('gives a case URL of a user neither the token nor the global signature, but its own secret', async () => {
    const created = await server.clients.user.case.createCase({ name: 'hooked', acs: ['soc'], webhooks: [attacker.url, trusted.url] });
    await waitFor(() => global.requests.length >= 1 && trusted.requests.length >= 1 && attacker.requests.length >= 1, 20_000, 'three receivers');
    const operatorVerifier = () => createWebhookReceiver({ secret, apiKey: TOKEN });
    // The operator's destinations keep the edf_fusion token and the global signature.
    expect(global.requests[0]!.headers['x-fusion-notifier-token']).toBe(TOKEN);
    expect(trusted.requests[0]!.headers['x-fusion-notifier-token']).toBe(TOKEN);
    expect(operatorVerifier().verify(trusted.requests[0]!.headers, trusted.requests[0]!.body).case.guid).toBe(created.guid);
    // The user's URL: no token, and the global secret does not verify its signature.
    const got = attacker.requests[0]!;
    expect(got.headers['x-fusion-notifier-token']).toBeUndefined();
    expect(JSON.stringify(got.headers)).not.toContain(TOKEN);
    expect(() => createWebhookReceiver({ secret }).verify(got.headers, got.body)).toThrow();
    // Its own secret, read through the API by a user allowed to update the case, verifies it.
    const listed = await server.clients.user.client.get<CaseWebhookSecret[]>(`/api/events/case/${created.guid}/webhooks`);
    const own = listed.find((entry) => entry.url === attacker.url)!;
    expect(own.trusted).toBe(false);
    expect(own.secrets).toEqual([endpointSecret(secret, created.guid, attacker.url)]);
    expect(createWebhookReceiver({ secret: own.secrets[0]! }).verify(got.headers, got.body).case.guid).toBe(created.guid);
    expect(listed.find((entry) => entry.url === trusted.url)).toEqual({ url: trusted.url, trusted: true, secrets: [] });
    expect(JSON.stringify(listed)).not.toContain(secret);
    expect(JSON.stringify(listed)).not.toContain(TOKEN);
  });

  it('derives a different secret per case and per URL', () => {
    const a = endpointSecret(secret, '0f6c2d9a-3b1e-4f5a-9c8d-7e6f5a4b3c2d', attacker.url);
    expect(endpointSecret(secret, '1f6c2d9a-3b1e-4f5a-9c8d-7e6f5a4b3c2d', attacker.url)).not.toBe(a);
    expect(endpointSecret(secret, '0f6c2d9a-3b1e-4f5a-9c8d-7e6f5a4b3c2d', global.url)).not.toBe(a);
    expect(endpointSecret(newSecret(), '0f6c2d9a-3b1e-4f5a-9c8d-7e6f5a4b3c2d', attacker.url)).not.toBe(a);
  });

  it('refuses the secrets to a user who may not access the case', async () => {
    const created = await server.clients.user.case.createCase({ name: 'private', acs: ['soc'], webhooks: [attacker.url] });
    const eve = await server.login('eve');
    const error = await eve.client.get(`/api/events/case/${created.guid}/webhooks`).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(FusionClientError);
    expect((error as FusionClientError).status).toBe(403);
    const anonymous = await server.clients.anonymous.client.get(`/api/events/case/${created.guid}/webhooks`).then(() => null, (e: unknown) => e);
    expect((anonymous as FusionClientError).status).toBe(401);
  });
});
