/** POST /api/auth/logout beside edf_fusion's GET, and the GET refusing cross-site requests. */
import { describe, expect, it } from '@jest/globals';
import { isCrossSite } from '../../../src/server/auth/cross-site.js';
import type { FastifyRequest } from 'fastify';
import { raw, silenceAudit, usePgliteCaseServer } from '../case/helpers.js';

silenceAudit();

const env = usePgliteCaseServer();

async function session(): Promise<Record<string, string>> {
  const clients = await env.server.login('alice');
  return { cookie: `FUSION_SESSION=${clients.client.sessionCookie}` };
}

describe('logout', () => {
  it('tells cross-site requests apart', () => {
    const req = (headers: Record<string, string>) => ({ headers: { host: 'fusion.example', ...headers } }) as unknown as FastifyRequest;
    expect(isCrossSite(req({}))).toBe(false);
    expect(isCrossSite(req({ 'sec-fetch-site': 'cross-site' }))).toBe(true);
    expect(isCrossSite(req({ 'sec-fetch-site': 'same-origin', origin: 'https://evil.example' }))).toBe(false);
    expect(isCrossSite(req({ origin: 'https://evil.example' }))).toBe(true);
    expect(isCrossSite(req({ origin: 'https://fusion.example' }))).toBe(false);
    expect(isCrossSite(req({ origin: 'null' }))).toBe(true);
  });

  it.each([{ 'sec-fetch-site': 'cross-site' }, { origin: 'https://evil.example' }] as Record<string, string>[])('GET refuses %p with 403 and keeps the session', async (headers) => {
    const cookie = await session();
    const refused = await raw(env.server.baseUrl, 'GET', '/api/auth/logout', { headers: { ...cookie, ...headers } });
    expect(refused).toMatchObject({ status: 403, body: { code: 'FUSION_ERR_FORBIDDEN' } });
    expect((await raw(env.server.baseUrl, 'GET', '/api/auth/is_logged', { headers: cookie })).status).toBe(200);
  });

  it('GET still logs out for edf_fusion clients and same-origin browsers', async () => {
    for (const headers of [{}, { 'sec-fetch-site': 'same-origin' }] as Record<string, string>[]) {
      const cookie = await session();
      expect((await raw(env.server.baseUrl, 'GET', '/api/auth/logout', { headers: { ...cookie, ...headers } })).status).toBe(200);
      expect((await raw(env.server.baseUrl, 'GET', '/api/auth/is_logged', { headers: cookie })).status).toBe(401);
    }
  });

  it('POST logs out', async () => {
    const cookie = await session();
    expect((await raw(env.server.baseUrl, 'POST', '/api/auth/logout', { headers: cookie })).status).toBe(200);
    expect((await raw(env.server.baseUrl, 'GET', '/api/auth/is_logged', { headers: cookie })).status).toBe(401);
  });
});
