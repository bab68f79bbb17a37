/** OpenTelemetry spans of RPC calls, reverse requests and channel messages, and the trace context their frames carry, read from an in-memory exporter. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { FusionRpcClient } from '../../../src/client/api/rpc.js';
import { withSpan } from '../../../src/helper/telemetry.js';
import type { KnexStorage } from '../../../src/server/storage/knex-storage.js';
import { freshStorage } from '../../helpers/storage.js';
import { descendsFrom, parentOf, useInMemorySdk } from '../telemetry/otel-sdk.js';
import { WsProbe, silenceAudit, startRpcServer, until, userClient, userHeaders } from './helpers.js';
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
        rpc.channel('room/*');
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

  const clientCalls = (method: string): ReadableSpan[] => recorder.spans().filter((span) => span.name === 'fusion.rpc.client.call' && span.attributes['rpc.method'] === method);

  it('wraps each call in a SERVER span continuing the client span (traceparent), naming the method, the caller and the connection; its work nests under it', async () => {
    await alice.call('echo', { n: 1 });
    const created = (await alice.call('case.create', { case: { name: 'traced', acs: ['soc'] } })) as { guid: string };
    await until(() => calls('echo').length === 1 && calls('case.create').length === 1 && clientCalls('case.create').length === 1, 'call spans ended');
    const [echo] = calls('echo');
    expect(echo!.kind).toBe(SpanKind.SERVER);
    const [echoClient] = clientCalls('echo');
    expect(echoClient!.kind).toBe(SpanKind.CLIENT);
    expect(parentOf(echoClient!)).toBeUndefined();
    expect(parentOf(echo!)).toBe(echoClient!.spanContext().spanId);
    expect(echo!.spanContext().traceId).toBe(echoClient!.spanContext().traceId);
    expect(echo!.attributes).toMatchObject({ 'rpc.system': 'jsonrpc', 'rpc.method': 'echo', 'enduser.id': 'alice', 'fusion.rpc.client_type': 'tests', 'fusion.rpc.connection': alice.connectionId });
    expect(echo!.status.code).toBe(SpanStatusCode.UNSET);
    const [create] = calls('case.create');
    const spans = recorder.spans();
    // One trace: the client's span → the server's call → the query writing the case row.
    expect(parentOf(create!)).toBe(clientCalls('case.create')[0]!.spanContext().spanId);
    const inside = spans.filter((span) => span !== create && descendsFrom(span, create!, spans));
    // The case row written by this call: its database work is traced under the call.
    expect(inside.some((span) => span.name.startsWith('db.') && JSON.stringify(span.attributes).includes('fusion_case'))).toBe(true);
    expect(created.guid).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('starts a new trace for a frame without traceparent or with a malformed one (the call is answered all the same)', async () => {
    const probe = await WsProbe.open(t.wsUrl, await userHeaders(t, 'alice'));
    try {
      const parent = { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16) };
      const frames = [
        { jsonrpc: '2.0', id: 1, method: 'echo', params: { n: 1 } },
        { jsonrpc: '2.0', id: 2, method: 'echo', params: { n: 2 }, traceparent: 'not-a-traceparent', tracestate: 'x=1' },
        { jsonrpc: '2.0', id: 3, method: 'echo', params: { n: 3 }, traceparent: 42 },
        { jsonrpc: '2.0', id: 4, method: 'echo', params: { n: 4 }, traceparent: `00-${parent.traceId}-${parent.spanId}-01`, tracestate: 'vendor=v1' },
      ];
      for (const frame of frames) {
        probe.send(frame);
        expect((await probe.answer(frame.id)).result).toEqual(frame.params);
      }
      const byId = (id: string): ReadableSpan | undefined => calls('echo').find((span) => span.attributes['rpc.jsonrpc.request_id'] === id && span.attributes['fusion.rpc.connection'] !== alice.connectionId);
      await until(() => ['1', '2', '3', '4'].every((id) => byId(id) !== undefined), 'probe call spans ended');
      for (const id of ['1', '2', '3']) expect(parentOf(byId(id)!)).toBeUndefined();
      const continued = byId('4')!;
      expect(continued.spanContext().traceId).toBe(parent.traceId);
      expect(parentOf(continued)).toBe(parent.spanId);
      expect(continued.spanContext().traceState?.get('vendor')).toBe('v1');
    } finally {
      await probe.close();
    }
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
    let handledIn: string | undefined;
    alice.handle('ui.ping', () => {
      handledIn = trace.getActiveSpan()?.spanContext().traceId;
      return 'pong';
    });
    expect(await t.rpc.reverseRequest('alice', 'ui.ping', {})).toBe('pong');
    expect(await t.rpc.reverseRequest('nobody', 'ui.ping', {})).toEqual({ delivered: false, reason: 'offline' });
    const reverse = recorder.spans().filter((span) => span.name === 'fusion.rpc.reverse_request');
    expect(reverse.map((span) => [span.kind, span.attributes['enduser.id'], span.attributes['rpc.method'], span.attributes['fusion.rpc.outcome']])).toEqual([
      [SpanKind.CLIENT, 'alice', 'ui.ping', 'answered'],
      [SpanKind.CLIENT, 'nobody', 'ui.ping', 'offline'],
    ]);
    // The reverse request's frame carried its context: the client's handler continues the server's trace.
    await until(() => recorder.spans().some((span) => span.name === 'fusion.rpc.client.handle'), 'the handler span ended');
    const handle = recorder.spans().find((span) => span.name === 'fusion.rpc.client.handle')!;
    expect(handle.kind).toBe(SpanKind.SERVER);
    expect(handle.attributes['rpc.method']).toBe('ui.ping');
    expect(parentOf(handle)).toBe(reverse[0]!.spanContext().spanId);
    expect(handledIn).toBe(reverse[0]!.spanContext().traceId);
  });

  it('sends a channel message with the trace context of its broadcast; the member handler runs in that trace', async () => {
    const seen: { data: unknown; traceId: string | undefined }[] = [];
    await alice.join('room/traced', (data) => seen.push({ data, traceId: trace.getActiveSpan()?.spanContext().traceId }));
    const traceId = await withSpan('test.broadcast', {}, async (span) => {
      await t.rpc.broadcast('room/traced', { hello: 1 });
      return span.spanContext().traceId;
    });
    await t.rpc.broadcast('room/traced', { hello: 2 }); // outside any span: no context, no trace
    await until(() => seen.length === 2, 'both messages arrived');
    expect(seen).toEqual([
      { data: { hello: 1 }, traceId },
      { data: { hello: 2 }, traceId: undefined },
    ]);
    // A member replaying with `since` gets the stored context too.
    const probe = await WsProbe.open(t.wsUrl, await userHeaders(t, 'bob'));
    try {
      expect((await probe.call(1, 'rpc.join', { channel: 'room/traced', since: 0 })).result).toMatchObject({ last_id: expect.any(Number) });
      const replayed = probe.frames.filter((frame) => frame.method === 'rpc.message');
      expect(replayed.map((frame) => [frame.params!.data, typeof frame.traceparent === 'string' ? (frame.traceparent as string).split('-')[1] : null])).toEqual([
        [{ hello: 1 }, traceId],
        [{ hello: 2 }, null],
      ]);
    } finally {
      await probe.close();
    }
  });
});
