/**
 * server.request_timeout and server.body_idle_timeout bound requests still arriving, not a
 * WebSocket once upgraded (issue 12, item 3): an RPC socket opened before a stalled body and
 * slow headers were answered 408 still answers calls after both.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { freshStorage } from '../../helpers/storage.js';
import type { KnexStorage } from '../../../src/server/storage/knex-storage.js';
import { WsProbe, silenceAudit, startRpcServer } from '../rpc/helpers.js';
import type { RpcServer } from '../rpc/helpers.js';
import { exchange, head } from './raw-http.js';

silenceAudit();

let storage: KnexStorage;
let t: RpcServer;

beforeAll(async () => {
  storage = await freshStorage('pglite');
  t = await startRpcServer(storage, { config: { server: { request_timeout: 1, body_idle_timeout: 0.5 } } });
}, 60_000);

afterAll(async () => {
  await t?.close();
  await storage?.close();
});

describe('timeouts and an upgraded WebSocket', () => {
  it('keeps an RPC socket answering after a stalled body and slow headers were timed out', async () => {
    const p = await WsProbe.open(t.wsUrl, { 'x-fusion-api-token': t.apiKey });
    try {
      const port = Number(new URL(t.baseUrl).port);
      const [stalled, slowHeaders] = await Promise.all([
        exchange(port, [head('POST', '/api/case', { 'Content-Type': 'application/json', 'X-Fusion-API-Token': t.apiKey }, 50), '{"name":', 'hold']),
        exchange(port, ['GET /api/info HTTP/1.1\r\nHost: x\r\n', 'hold']),
      ]);
      expect([stalled.status, slowHeaders.status]).toEqual([408, 408]);
      // Both timeouts have passed since the socket opened: it still answers.
      expect(p.socket.readyState).toBe(p.socket.OPEN);
      const created = await p.call(1, 'case.create', { case: { name: 'after timeouts', acs: ['soc'] } });
      expect(created).toMatchObject({ result: { name: 'after timeouts' } });
    } finally {
      await p.close();
    }
  }, 60_000);
});
