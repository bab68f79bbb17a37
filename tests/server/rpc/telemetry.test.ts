/** OpenTelemetry spans of RPC calls and reverse requests, read from an in-memory exporter. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { FusionRpcClient } from '../../../src/client/api/rpc.js';
import type { KnexStorage } from '../../../src/server/storage/knex-storage.js';
import { freshStorage } from '../../helpers/storage.js';
import { descendsFrom, parentOf, useInMemorySdk } from '../telemetry/otel-sdk.js';
import { silenceAudit, startRpcServer, until, userClient } from './helpers.js';
import type { RpcServer } from './helpers.js';

describe('rpc spans', () => {
  silenceAudit();
  const recorder = useInMemorySdk();
  let storage: KnexStorage;
  let t: RpcServer;
  let alice: FusionRpcClient;

  beforeAll(async () => {
    storage = await freshStorage('pglite');
    t = await startRpcServer(storage, {
      declare: (rpc) => {
        rpc.method('echo', { input: { type: 'object', properties: { n: { type: 'number' } }, additionalProperties: false } }, ({ params }) => params);
        rpc.method('boom', {}, () => {
          throw new Error('internal detail');
        });
      },
    });
    alice = await userClient(t, 'alice', { clientType: 'tests' });
  }, 60_000);

  afterAll(async () => {
    await alice?.close();
    await t?.close();
    await storage?.close();
  });

  const calls = (method: string): ReadableSpan[] => recorder.spans().filter((span) => span.name === 'fusion.rpc.call' && span.attributes['rpc.method'] === method);

  it('wraps each call in a root SERVER span naming the method, the caller and the connection; its work nests under it', async () => {
    await alice.call('echo', { n: 1 });
    const created = (await alice.call('case.create', { case: { name: 'traced', acs: ['soc'] } })) as { guid: string };
    await until(() => calls('echo').length === 1 && calls('case.create').length === 1, 'both call spans ended');
    const [echo] = calls('echo');
    expect(echo!.kind).toBe(SpanKind.SERVER);
    expect(parentOf(echo!)).toBeUndefined();
    expect(echo!.attributes).toMatchObject({ 'rpc.system': 'jsonrpc', 'rpc.method': 'echo', 'enduser.id': 'alice', 'fusion.rpc.client_type': 'tests', 'fusion.rpc.connection': alice.connectionId });
    expect(echo!.status.code).toBe(SpanStatusCode.UNSET);
    const [create] = calls('case.create');
    const spans = recorder.spans();
    const inside = spans.filter((span) => span !== create && descendsFrom(span, create!, spans));
    // The case row written by this call: its database work is traced under the call.
    expect(inside.some((span) => span.name.startsWith('db.') && JSON.stringify(span.attributes).includes('fusion_case'))).toBe(true);
    expect(created.guid).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('records the JSON-RPC error code; only an internal error marks the span failed', async () => {
    await expect(alice.call('echo', { n: 'one' })).rejects.toMatchObject({ rpcCode: -32602 });
    await expect(alice.call('boom', {})).rejects.toMatchObject({ rpcCode: -32603 });
    await until(() => calls('boom').length === 1 && calls('echo').some((span) => span.attributes['rpc.jsonrpc.error_code'] === -32602), 'error spans ended');
    const invalid = calls('echo').find((span) => span.attributes['rpc.jsonrpc.error_code'] === -32602)!;
    expect(invalid.status.code).toBe(SpanStatusCode.UNSET);
    const [boom] = calls('boom');
    expect(boom!.attributes['rpc.jsonrpc.error_code']).toBe(-32603);
    expect(boom!.status).toMatchObject({ code: SpanStatusCode.ERROR, message: 'internal detail' });
  });

  it('wraps a reverse request in a CLIENT span with its target user and outcome', async () => {
    alice.handle('ui.ping', () => 'pong');
    expect(await t.rpc.reverseRequest('alice', 'ui.ping', {})).toBe('pong');
    expect(await t.rpc.reverseRequest('nobody', 'ui.ping', {})).toEqual({ delivered: false, reason: 'offline' });
    const reverse = recorder.spans().filter((span) => span.name === 'fusion.rpc.reverse_request');
    expect(reverse.map((span) => [span.kind, span.attributes['enduser.id'], span.attributes['rpc.method'], span.attributes['fusion.rpc.outcome']])).toEqual([
      [SpanKind.CLIENT, 'alice', 'ui.ping', 'answered'],
      [SpanKind.CLIENT, 'nobody', 'ui.ping', 'offline'],
    ]);
  });
});
