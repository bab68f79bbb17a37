import type { Socket } from 'node:net';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { FusionRpcClient, FusionRpcError } from '../../../src/client/api/rpc.js';
import { Identity } from '../../../src/concept/index.js';
import { FusionError } from '../../../src/helper/errors.js';
import { FusionAuthAPI } from '../../../src/server/auth/impl.js';
import type { FusionRpcAPI } from '../../../src/server/rpc/impl.js';
import type { RpcFrame } from '../../../src/server/rpc/connection.js';
import { describeStorage } from '../../helpers/storage.js';
import { WsProbe, serviceClient, silenceAudit, startRpcServer, until, userClient, userHeaders } from './helpers.js';
import type { RpcServer } from './helpers.js';

const hookLog: string[] = [];
const aborted: string[] = [];

function declare(rpc: FusionRpcAPI): void {
  rpc.method(
    'math.add',
    { input: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'], additionalProperties: false } },
    ({ params }: { params: { a: number; b: number } }) => params.a + params.b,
  );
  rpc.method('echo', {}, ({ params, identity, connection }) => ({ params, username: identity.username, clientType: connection.clientType }));
  rpc.method('count', {}, async function* ({ params }: { params: { n: number } }) {
    for (let i = 0; i < params.n; i++) yield i;
    return 'done';
  });
  rpc.method('forever', {}, ({ signal, params }: { signal: AbortSignal; params: { tag?: string } }) => {
    return new Promise((_, reject) => {
      signal.addEventListener('abort', () => {
        aborted.push(params.tag ?? 'untagged');
        reject(signal.reason);
      });
    });
  });
  rpc.method('ticker', {}, async function* ({ signal, params }: { signal: AbortSignal; params: { tag: string } }) {
    try {
      for (let i = 0; ; i++) {
        yield i;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    } finally {
      if (signal.aborted) aborted.push(params.tag);
    }
  });
  rpc.method('slow', { timeout: 0.3 }, ({ signal }) => new Promise((resolve) => setTimeout(resolve, 20_000, 'late').unref() && signal.addEventListener('abort', () => resolve('aborted'))));
  rpc.method('wait', {}, ({ params }: { params: { ms: number } }) => new Promise((resolve) => setTimeout(() => resolve('finished'), params.ms)));
  rpc.method('fail.notfound', {}, () => {
    throw new FusionError('FUSION_ERR_CASE_NOT_FOUND', 'case 42 not found');
  });
  rpc.method('fail.conflict', {}, () => {
    throw new FusionError('FUSION_ERR_CASE_EXISTS', 'exists already');
  });
  rpc.method('fail.forbidden', {}, () => {
    throw new FusionError('FUSION_ERR_FORBIDDEN', 'not yours');
  });
  rpc.method('fail.internal', {}, () => {
    throw new Error('secret internals at /srv/db password=hunter2');
  });
  rpc.method('identity.name', { input: Identity }, ({ params }: { params: Identity }) => params.username);
  rpc.method('admin.only', { clientTypes: ['admin'] }, () => 'welcome');
  rpc.method('secret', { operation: 'secret_op' }, ({ identity }) => `for ${identity.username}`);
  rpc.method('dates', {}, () => ({ when: new Date(Date.UTC(2020, 0, 2)), tags: new Set(['a', 'b']) }));
  rpc.method('flood', {}, async function* ({ signal }) {
    const chunk = 'x'.repeat(64 * 1024);
    while (!signal.aborted) yield chunk;
    return 'stopped';
  });
  rpc.method('hooked', {}, () => 'original');
}

const hooks = {
  onConnect: (c: { identity: Identity }) => {
    hookLog.push(`connect:${c.identity.username}`);
  },
  onDisconnect: (c: { identity: Identity }, code: number) => {
    hookLog.push(`disconnect:${c.identity.username}:${code}`);
  },
  afterReceive: (_c: unknown, frame: RpcFrame): RpcFrame | null => {
    if (frame.method === 'dropped') return null;
    if (frame.method === 'renamed') return { ...frame, method: 'hooked' };
    return frame;
  },
  beforeSend: (_c: unknown, frame: RpcFrame): RpcFrame | null => {
    if (frame.result === 'original') return { ...frame, result: 'transformed' };
    return frame;
  },
};

describeStorage('rpc calls', (getStorage) => {
  silenceAudit();
  let t: RpcServer;
  beforeAll(async () => {
    t = await startRpcServer(getStorage(), {
      declare,
      api: { hooks },
      config: { rpc: { max_frame_bytes: 65536, max_in_flight: 4, rate: 50, max_buffered_bytes: 1024 * 1024 } },
      server: { apis: [new FusionAuthAPI({ authorize: (identity, _request, context) => !(context.operation === 'secret_op' && identity.username === 'eve') })] },
    });
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  const probe = (): Promise<WsProbe> => WsProbe.open(t.wsUrl, { 'x-fusion-api-token': t.apiKey });

  it('answers a call with its result, validated params, the caller identity and the hello classification', async () => {
    const client = await serviceClient(t, { clientType: 'cli' });
    try {
      expect(await client.call('math.add', { a: 2, b: 3 })).toBe(5);
      expect(await client.call('echo', { x: [1, 'two'] })).toEqual({ params: { x: [1, 'two'] }, username: 'service', clientType: 'cli' });
      expect(client.connectionId).toMatch(/^[0-9a-f-]{36}$/);
      expect((await t.rpc.registry.list({ id: client.connectionId! }))[0]).toMatchObject({ kind: 'rpc', username: 'service', clientType: 'cli' });
    } finally {
      await client.close();
    }
  });

  it('answers every error code of the contract, with FUSION_ERR codes and no internal text', async () => {
    const p = await probe();
    try {
      const cases: [string, unknown, number, string][] = [
        ['math.add', { a: 1, b: 'two' }, -32602, 'FUSION_ERR_VALIDATION'],
        ['math.add', { a: 1 }, -32602, 'FUSION_ERR_VALIDATION'],
        ['identity.name', { username: 42 }, -32602, 'FUSION_ERR_VALIDATION'],
        ['no.such.method', {}, -32601, 'FUSION_ERR_RPC_METHOD_NOT_FOUND'],
        ['fail.notfound', {}, -32004, 'FUSION_ERR_CASE_NOT_FOUND'],
        ['fail.conflict', {}, -32009, 'FUSION_ERR_CASE_EXISTS'],
        ['fail.forbidden', {}, -32003, 'FUSION_ERR_FORBIDDEN'],
        ['fail.internal', {}, -32603, 'FUSION_ERR_INTERNAL'],
        ['slow', {}, -32008, 'FUSION_ERR_TIMEOUT'],
        ['admin.only', {}, -32003, 'FUSION_ERR_FORBIDDEN'],
      ];
      for (const [index, [method, params, code, fusionCode]] of cases.entries()) {
        const answer = await p.call(100 + index, method, params);
        expect([method, answer.error?.code, answer.error?.data?.code]).toEqual([method, code, fusionCode]);
      }
      const typeError = await p.call(200, 'math.add', { a: 1, b: 'two' });
      expect(typeError.error!.message).toContain('params.b');
      const missing = await p.call(201, 'math.add', { a: 1 });
      expect(missing.error!.message).toMatch(/params: must have required property 'b'/);
      const concept = await p.call(202, 'identity.name', { username: 42 });
      expect(concept.error!.message).toContain('username');
      const internal = await p.call(203, 'fail.internal', {});
      expect(internal.error!.message).toBe('internal error');
      expect(JSON.stringify(internal)).not.toContain('hunter2');
      expect(await p.call(204, 'identity.name', { username: 'zoe' })).toMatchObject({ result: 'zoe' });
    } finally {
      await p.close();
    }
  });

  it('answers malformed frames with error frames and keeps the connection open', async () => {
    const p = await probe();
    try {
      p.send('this is not json');
      expect((await p.next((f) => f.error?.code === -32700)).id).toBeNull();
      p.send('[{"jsonrpc":"2.0","id":1,"method":"echo"}]');
      expect((await p.next((f) => f.error?.code === -32600 && /batches/.test(f.error.message))).id).toBeNull();
      p.send('42');
      await p.next((f) => f.error?.code === -32600 && /JSON object/.test(f.error.message));
      p.send({ jsonrpc: '1.0', id: 7, method: 'echo' });
      expect(await p.answer(7)).toMatchObject({ error: { code: -32600, data: { code: 'FUSION_ERR_RPC_INVALID_REQUEST' } } });
      p.send({ jsonrpc: '2.0', id: 8, method: 42 });
      expect(await p.answer(8)).toMatchObject({ error: { code: -32600 } });
      p.send({ jsonrpc: '2.0', id: 9, method: 'echo', params: 'a string' });
      expect((await p.answer(9)).error!.message).toContain('"params" must be an object');
      p.send({ jsonrpc: '2.0', id: { nested: true }, method: 'echo' });
      await p.next((f) => f.id === null && /"id" must be/.test(f.error?.message ?? ''));
      p.send({ jsonrpc: '2.0', id: 10 });
      expect(await p.answer(10)).toMatchObject({ error: { code: -32600 } });
      p.send({ jsonrpc: '2.0', id: 'r999', result: 1 });
      await p.next((f) => f.id === null && /no request of the server/.test(f.error?.message ?? ''));
      p.send(Buffer.from('{"jsonrpc":"2.0","id":11,"method":"echo"}'), { binary: true });
      await p.next((f) => f.id === null && /binary frames/.test(f.error?.message ?? ''));
      // Still usable after all of it.
      expect(await p.call(12, 'math.add', { a: 1, b: 1 })).toMatchObject({ result: 2 });
      expect(p.socket.readyState).toBe(p.socket.OPEN);
    } finally {
      await p.close();
    }
  });

  it('closes with 1009 on a frame over max_frame_bytes', async () => {
    const p = await probe();
    p.send({ jsonrpc: '2.0', id: 1, method: 'echo', params: { blob: 'x'.repeat(70_000) } });
    expect((await p.closed).code).toBe(1009);
  });

  it('streams items as rpc.item then the final result; break cancels the call', async () => {
    const client = await serviceClient(t);
    try {
      const stream = client.stream('count', { n: 5 });
      const items: unknown[] = [];
      for await (const item of stream) items.push(item);
      expect(items).toEqual([0, 1, 2, 3, 4]);
      expect(await stream.result).toBe('done');
      const ticker = client.stream('ticker', { tag: 'broken-loop' });
      let seen = 0;
      for await (const item of ticker) {
        expect(item).toBe(seen);
        if (++seen === 3) break;
      }
      await expect(ticker.result).rejects.toMatchObject({ rpcCode: -32010, code: 'FUSION_ERR_RPC_CANCELLED' });
      await until(() => aborted.includes('broken-loop'), 'the generator saw the abort');
    } finally {
      await client.close();
    }
  });

  it('cancels a call on rpc.cancel (the handler signal fires) and answers -32010', async () => {
    const p = await probe();
    try {
      p.send({ jsonrpc: '2.0', id: 1, method: 'forever', params: { tag: 'cancel-me' } });
      await until(() => t.rpc.connectionCount > 0, 'connected');
      p.send({ jsonrpc: '2.0', method: 'rpc.cancel', params: { id: 1 } });
      expect(await p.answer(1)).toMatchObject({ error: { code: -32010, data: { code: 'FUSION_ERR_RPC_CANCELLED' } } });
      expect(aborted).toContain('cancel-me');
    } finally {
      await p.close();
    }
  });

  it('limits calls in flight and the call rate with -32029, and refuses a reused id', async () => {
    const p = await probe();
    try {
      for (let id = 1; id <= 6; id++) p.send({ jsonrpc: '2.0', id, method: 'forever', params: { tag: `inflight-${id}` } });
      const over = await p.answer(5);
      expect(over).toMatchObject({ error: { code: -32029, data: { code: 'FUSION_ERR_RATE_LIMITED' } } });
      expect((await p.answer(6)).error!.code).toBe(-32029);
      p.send({ jsonrpc: '2.0', id: 1, method: 'echo' });
      await p.next((f) => f.id === 1 && /already in use/.test(f.error?.message ?? ''));
      for (let id = 1; id <= 4; id++) p.send({ jsonrpc: '2.0', method: 'rpc.cancel', params: { id } });
      for (let id = 1; id <= 4; id++) await p.next((f) => f.id === id && f.error?.code === -32010);
    } finally {
      await p.close();
    }
    const q = await probe();
    try {
      for (let id = 1; id <= 120; id++) q.send({ jsonrpc: '2.0', id, method: 'echo' });
      await q.next(() => q.frames.filter((f) => typeof f.id === 'number').length === 120);
      const limited = q.frames.filter((f) => f.error?.code === -32029);
      expect(limited.length).toBeGreaterThan(0);
      expect(q.frames.filter((f) => f.result !== undefined).length + limited.length).toBe(120);
    } finally {
      await q.close();
    }
  });

  it('checks the operation of a method with the auth API authorizer, per caller', async () => {
    const alice = await userClient(t, 'alice');
    const eve = await userClient(t, 'eve');
    try {
      expect(await alice.call('secret')).toBe('for alice');
      await expect(eve.call('secret')).rejects.toMatchObject({ rpcCode: -32003, code: 'FUSION_ERR_FORBIDDEN' });
    } finally {
      await alice.close();
      await eve.close();
    }
  });

  it('restricts methods to client types declared with rpc.hello, and closes with 4400 on an unknown protocol', async () => {
    const admin = await serviceClient(t, { clientType: 'admin' });
    try {
      expect(await admin.call('admin.only')).toBe('welcome');
    } finally {
      await admin.close();
    }
    const p = await probe();
    expect(await p.call(1, 'rpc.hello', { codec: 'xml' })).toMatchObject({ error: { code: -32602 } });
    p.send({ jsonrpc: '2.0', id: 2, method: 'rpc.hello', params: { protocol: 99 } });
    const closed = await p.closed;
    expect(closed.code).toBe(4400);
    expect(closed.reason).toContain('unsupported protocol 99');
  });

  it('carries Date and Set with the superjson codec', async () => {
    const client = await serviceClient(t, { codec: 'superjson' });
    const plain = await serviceClient(t);
    try {
      const value = (await client.call('dates')) as { when: Date; tags: Set<string> };
      expect(value.when).toBeInstanceOf(Date);
      expect(value.when.toISOString()).toBe('2020-01-02T00:00:00.000Z');
      expect(value.tags).toEqual(new Set(['a', 'b']));
      expect(await client.call('math.add', { a: 1, b: 2 })).toBe(3);
      expect(await plain.call('dates')).toEqual({ when: '2020-01-02T00:00:00.000Z', tags: {} });
    } finally {
      await client.close();
      await plain.close();
    }
  });

  it('runs the hooks: onConnect, afterReceive (drop, rewrite), beforeSend (transform), onDisconnect, in order', async () => {
    hookLog.length = 0;
    const p = await WsProbe.open(t.wsUrl, await userHeaders(t, 'bob'));
    p.send({ jsonrpc: '2.0', id: 1, method: 'dropped' });
    expect(await p.call(2, 'renamed')).toMatchObject({ result: 'transformed' });
    expect(p.frames.some((f) => f.id === 1)).toBe(false);
    await p.close();
    await until(() => hookLog.includes('disconnect:bob:1005') || hookLog.some((line) => line.startsWith('disconnect:bob')), 'onDisconnect');
    expect(hookLog.filter((line) => line.endsWith('bob') || line.startsWith('disconnect:bob'))).toEqual(['connect:bob', expect.stringMatching(/^disconnect:bob:/)]);
  });

  it('closes a client that does not read with 1013 once its buffered bytes pass max_buffered_bytes', async () => {
    const p = await probe();
    const raw = (p.socket as unknown as { _socket: Socket })._socket;
    raw.pause();
    p.send({ jsonrpc: '2.0', id: 1, method: 'flood' });
    await until(() => t.rpc.connectionCount === 0, 'the flooding connection closed', 30_000);
    raw.resume();
    p.socket.terminate();
  }, 40_000);

  it('refuses an upgrade without credentials (401 envelope) and a cookie upgrade from a foreign Origin (403)', async () => {
    const anonymous = WsProbe.open(t.wsUrl);
    await expect(anonymous).rejects.toMatchObject({ status: 401, body: { status: 401, code: 'FUSION_ERR_UNAUTHORIZED' } });
    const cookie = await userHeaders(t, 'alice');
    await expect(WsProbe.open(t.wsUrl, cookie, 'https://evil.example')).rejects.toMatchObject({ status: 403, body: { code: 'FUSION_ERR_RPC_ORIGIN' } });
    const same = await WsProbe.open(t.wsUrl, cookie, t.baseUrl);
    expect(await same.call(1, 'echo')).toMatchObject({ result: { username: 'alice' } });
    await same.close();
    // An API key is not ambient: a foreign Origin with it is fine.
    const keyed = await WsProbe.open(t.wsUrl, { 'x-fusion-api-token': t.apiKey }, 'https://elsewhere.example');
    await keyed.close();
    await expect(WsProbe.open(t.wsUrl, { 'x-fusion-api-token': 'wrong' })).rejects.toMatchObject({ status: 401 });
  });

  it('opens with a one-use ticket from POST /api/rpc/ticket (a second use is refused)', async () => {
    const clients = await t.login('alice');
    const response = await clients.client.request<{ ticket: string }>('POST', '/api/rpc/ticket');
    const ticket = response.ticket;
    expect(ticket).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    const p = await WsProbe.open(`${t.wsUrl}?ticket=${ticket}`, {}, 'https://any.example');
    expect(await p.call(1, 'echo')).toMatchObject({ result: { username: 'alice' } });
    await p.close();
    await expect(WsProbe.open(`${t.wsUrl}?ticket=${ticket}`)).rejects.toMatchObject({ status: 401, body: { code: 'FUSION_ERR_RPC_TICKET' } });
    const viaClient = await FusionRpcClient.connect({
      url: t.baseUrl,
      ticket: async () => (await clients.client.request<{ ticket: string }>('POST', '/api/rpc/ticket')).ticket,
    });
    expect(((await viaClient.call('echo')) as { username: string }).username).toBe('alice');
    await viaClient.close();
  });

  it('answers the built-in twins of the HTTP routes with the same authorization and ACS', async () => {
    const alice = await userClient(t, 'alice');
    const eve = await userClient(t, 'eve');
    try {
      expect(await alice.call('info.get')).toMatchObject({ api: 'test' });
      const created = (await alice.call('case.create', { case: { name: 'via rpc', acs: ['soc'] } })) as { guid: string; name: string };
      expect(created.name).toBe('via rpc');
      expect(await alice.call('case.retrieve', { guid: created.guid })).toMatchObject({ guid: created.guid });
      await expect(eve.call('case.retrieve', { guid: created.guid })).rejects.toMatchObject({ rpcCode: -32003 });
      expect(((await eve.call('case.enumerate')) as unknown[]).some((c) => (c as { guid: string }).guid === created.guid)).toBe(false);
      expect(await alice.call('case.update', { guid: created.guid, patch: { name: 'renamed' } })).toMatchObject({ name: 'renamed' });
      await expect(alice.call('case.update', { guid: created.guid, patch: { nope: 1 } })).rejects.toMatchObject({ rpcCode: -32602 });
      await expect(alice.call('case.retrieve', { guid: 'not-a-guid' })).rejects.toMatchObject({ rpcCode: -32602 });
      await expect(alice.call('case.retrieve', { guid: '0f6c2d9a-3b1e-4f5a-9c8d-7e6f5a4b3c2d' })).rejects.toMatchObject({ rpcCode: -32004 });
      await expect(alice.call('case.create', { case: { name: 42 } })).rejects.toBeInstanceOf(FusionRpcError);
      expect(await alice.call('case.delete', { guid: created.guid }).catch((error: FusionRpcError) => error.rpcCode)).toBe(-32003); // not in can_delete_acs
    } finally {
      await alice.close();
      await eve.close();
    }
  });

  it('closes with 1001 at shutdown after the calls in flight finished', async () => {
    const other = await startRpcServer(getStorage(), { declare });
    const p = await WsProbe.open(other.wsUrl, { 'x-fusion-api-token': other.apiKey });
    p.send({ jsonrpc: '2.0', id: 1, method: 'wait', params: { ms: 300 } });
    await until(() => other.rpc.connectionCount === 1, 'connected');
    await new Promise((resolve) => setTimeout(resolve, 50));
    await other.close();
    expect(await p.answer(1)).toMatchObject({ result: 'finished' });
    expect((await p.closed).code).toBe(1001);
  }, 30_000);

  it('terminates a peer that stops answering pings', async () => {
    const other = await startRpcServer(getStorage(), { declare, config: { rpc: { heartbeat_interval: 0.2 } } });
    try {
      const p = await WsProbe.open(other.wsUrl, { 'x-fusion-api-token': other.apiKey });
      await until(() => other.rpc.connectionCount === 1, 'connected');
      const raw = (p.socket as unknown as { _socket: Socket })._socket;
      raw.pause();
      await until(() => other.rpc.connectionCount === 0, 'the silent peer dropped');
      p.socket.terminate();
    } finally {
      await other.close();
    }
  }, 30_000);
});


