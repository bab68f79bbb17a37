/** A bearer access token from a real OpenID Connect provider authenticates the WebSocket upgrade, as it does HTTP. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as oidc from 'openid-client';
import { FusionRpcClient } from '../../../src/client/api/rpc.js';
import { FusionAuthAPI } from '../../../src/server/auth/impl.js';
import { parseConfig } from '../../../src/server/config.js';
import { FusionRpcAPI } from '../../../src/server/rpc/impl.js';
import { FusionServer } from '../../../src/server/server.js';
import type { KnexStorage } from '../../../src/server/storage/knex-storage.js';
import { freshStorage } from '../../helpers/storage.js';
import { silenceAudit } from '../auth/harness.js';
import { API_RESOURCE, SERVICE_CLIENT_ID, SERVICE_CLIENT_SECRET, TestProvider, newSigningKey } from '../auth/oidc/provider.js';
import { API_KEY, TestClock, epoch, oidcBackend, oidcSection, providerClient, signToken } from '../auth/oidc/setup.js';
import { WsProbe } from './helpers.js';

describe('rpc upgrade with Authorization: Bearer (real oidc-provider)', () => {
  silenceAudit();
  let provider: TestProvider;
  let storage: KnexStorage;
  let server: FusionServer;
  let baseUrl: string;
  let service: oidc.Configuration;
  const rpc = new FusionRpcAPI();
  rpc.method('whoami', {}, ({ identity }) => identity.username);

  beforeAll(async () => {
    provider = await TestProvider.start();
    storage = await freshStorage('pglite');
    const config = parseConfig({ server: { log_level: 'silent', docs: false }, auth: { clients: [{ name: 'collector', key: API_KEY }], cookie: { secure: false } }, rpc: {} }, { env: {} });
    const auth = new FusionAuthAPI({ backend: oidcBackend(oidcSection(provider.issuer), new TestClock()) });
    server = new FusionServer({ config, storage, apis: [auth, rpc] });
    baseUrl = await server.listen({ host: '127.0.0.1', port: 0 });
    service = await providerClient(provider.issuer, SERVICE_CLIENT_ID, SERVICE_CLIENT_SECRET);
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await storage?.close();
    await provider?.stop();
  });

  it('accepts a provider-issued access token: the connection has its identity, calls and reverse requests work', async () => {
    const { access_token: token } = await oidc.clientCredentialsGrant(service, { resource: API_RESOURCE, scope: 'api' });
    // An Origin header does not matter: only cookie upgrades are checked against it.
    const client = await FusionRpcClient.connect({ url: baseUrl, bearer: token, reconnect: false, origin: 'https://elsewhere.example' });
    try {
      expect(client.identity).toMatchObject({ username: 'service-account-collector' });
      expect(await client.call('whoami', {})).toBe('service-account-collector');
      client.handle('ping', () => 'pong');
      expect(await rpc.reverseRequest('service-account-collector', 'ping', {}, { timeout: 20 })).toBe('pong');
    } finally {
      await client.close();
    }
  });

  it('refuses a forged or expired bearer token with a 401 envelope', async () => {
    const claims = { iss: provider.issuer, aud: 'fusion', sub: 'mallory', preferred_username: 'mallory', scope: 'api', iat: epoch() };
    const forged = await signToken(await newSigningKey(), { ...claims, exp: epoch() + 300 });
    const expired = await signToken(provider.signingKey, { ...claims, iat: epoch() - 3600, exp: epoch() - 600 });
    for (const token of [forged, expired]) {
      const refused = (await WsProbe.open(`${baseUrl.replace(/^http/, 'ws')}/api/rpc`, { authorization: `Bearer ${token}` }).then(
        (probe) => probe.close().then(() => null),
        (error: unknown) => error,
      )) as { status: number; body: { status: number; code: string } } | null;
      expect(refused).toMatchObject({ status: 401, body: { status: 401, code: 'FUSION_ERR_UNAUTHORIZED' } });
    }
    await expect(FusionRpcClient.connect({ url: baseUrl, bearer: forged, reconnect: false })).rejects.toMatchObject({ status: 401 });
  });
});
