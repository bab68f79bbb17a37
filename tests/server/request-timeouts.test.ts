/**
 * server.request_timeout and server.body_idle_timeout: a stalled body or slow headers get a 408
 * in the envelope and their connection closed, while an SSE stream (a complete request whose
 * answer goes on) outlives both timeouts. And a too-large body sent whole, without Expect,
 * gets a 413 its client can read.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request } from 'undici';
import { Case } from '../../src/concept/index.js';
import { ConfigReader } from '../../src/helper/config.js';
import { parseServerConfig } from '../../src/server/config.js';
import type { KnexStorage } from '../../src/server/storage/knex-storage.js';
import { freshStorage } from '../helpers/storage.js';
import { SseProbe, serviceHeaders, silenceAudit, startEventServer } from './event/helpers.js';
import type { EventServer } from './event/helpers.js';
import { exchange, head } from './hostile/raw-http.js';

silenceAudit();

let storage: KnexStorage;
let t: EventServer;
let port: number;

beforeAll(async () => {
  storage = await freshStorage('pglite');
  t = await startEventServer(storage, { config: { server: { request_timeout: 1, body_idle_timeout: 0.5, client_max_size: 64 * 1024 }, event: { keepalive: 60 } } });
  port = Number(new URL(t.baseUrl).port);
}, 60_000);

afterAll(async () => {
  await t?.close();
  await storage?.close();
});

describe('request timeouts', () => {
  it('reads server.request_timeout and server.body_idle_timeout (defaults 300 s and 30 s)', () => {
    const parse = (section: Record<string, unknown>) => parseServerConfig(new ConfigReader(section, { key: 'server' }));
    expect(parse({})).toMatchObject({ requestTimeout: 300, bodyIdleTimeout: 30 });
    expect(parse({ request_timeout: 0, body_idle_timeout: 2.5 })).toMatchObject({ requestTimeout: 0, bodyIdleTimeout: 2.5 });
    expect(() => parse({ request_timeout: -1 })).toThrow(/server\.request_timeout/);
    expect(() => parse({ body_idle_timeout: 'soon' })).toThrow(/server\.body_idle_timeout/);
  });

  it('answers a stalled body 408 in the envelope, keeps an SSE stream alive past both timeouts', async () => {
    const caseObj = await t.clients.service.case.createCase({ name: 'streamed', acs: ['soc'] });
    const probe = await SseProbe.open(t.baseUrl, `/api/events/case/${caseObj.guid}`, serviceHeaders(t));
    try {
      const stalled = await exchange(port, [head('POST', '/api/case', { 'Content-Type': 'application/json', ...serviceHeaders(t) }, 50), '{"name":', 'hold']);
      expect(stalled.status).toBe(408);
      expect(stalled.json).toMatchObject({ status: 408, code: 'FUSION_ERR_REQUEST_TIMEOUT' });
      expect(stalled.json!.message).toMatch(/server\.body_idle_timeout/);
      const slowHeaders = await exchange(port, ['GET /api/info HTTP/1.1\r\nHost: x\r\n', 'hold']);
      expect(slowHeaders.status).toBe(408);
      expect(slowHeaders.json).toMatchObject({ status: 408, code: 'FUSION_ERR_REQUEST_TIMEOUT' });
      // Both timeouts have passed since the stream opened: it still delivers.
      await t.events.notify('after_timeouts', Case.fromJSON(caseObj.toJSON()));
      const events = await probe.waitFor((received) => received.some((e) => e.category === 'after_timeouts'), 15_000);
      expect(events.map((e) => e.category)).toContain('after_timeouts');
    } finally {
      await probe.close();
    }
  });

  it('lets a client that sends a too-large body whole, without Expect, read the 413', async () => {
    const body = JSON.stringify({ name: 'x'.repeat(4 * 1024 * 1024) });
    const answer = await request(`${t.baseUrl}/api/case`, { method: 'POST', headers: { 'content-type': 'application/json', ...serviceHeaders(t) }, body });
    expect(answer.statusCode).toBe(413);
    expect(await answer.body.json()).toMatchObject({ status: 413, code: 'FUSION_ERR_BODY_TOO_LARGE' });
  });
});
