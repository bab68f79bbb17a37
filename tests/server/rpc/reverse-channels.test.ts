import { afterAll, afterEach, beforeAll, expect, it } from '@jest/globals';
import type { FusionRpcClient } from '../../../src/client/api/rpc.js';
import type { RpcConnection } from '../../../src/server/rpc/connection.js';
import type { FusionRpcAPI } from '../../../src/server/rpc/impl.js';
import type { ReverseAnswer } from '../../../src/server/rpc/impl.js';
import { CHANNEL_MESSAGE_TABLE } from '../../../src/server/rpc/tables.js';
import type { KnexStorage } from '../../../src/server/storage/knex-storage.js';
import { openStorage } from '../../../src/server/storage/open-storage.js';
import { TEST_PG_URL, describeStorage } from '../../helpers/storage.js';
import { WsProbe, serviceClient, silenceAudit, startRpcServer, until, userClient, userHeaders } from './helpers.js';
import type { RpcServer } from './helpers.js';

const connectionsOf = new Map<string, RpcConnection[]>();

function declare(rpc: FusionRpcAPI): void {
  rpc.channel('room/*');
  rpc.channel(/^private\/.+$/, { authorize: ({ identity }) => identity.username === 'alice' });
  rpc.method('whoami', {}, ({ identity }) => identity.username);
}

const hooks = {
  onConnect: (connection: { identity: { username: string } }) => {
    const list = connectionsOf.get(connection.identity.username) ?? [];
    list.push(connection as unknown as RpcConnection);
    connectionsOf.set(connection.identity.username, list);
  },
};

describeStorage('rpc reverse requests and channels on two instances', (getStorage, kind) => {
  silenceAudit();
  let a: RpcServer;
  let b: RpcServer;
  let storageB: KnexStorage;
  const clients: FusionRpcClient[] = [];
  beforeAll(async () => {
    // Two instances on one database: a second pool on the same schema (PostgreSQL), or the same embedded database (PGlite).
    storageB = kind === 'postgres' ? await openStorage(TEST_PG_URL, { schema: getStorage().schema! }) : getStorage();
    a = await startRpcServer(getStorage(), { declare, api: { hooks }, config: { event: {} } });
    b = await startRpcServer(storageB, { declare, api: { hooks }, config: { event: {} } });
  }, 60_000);
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
    await until(async () => a.rpc.connectionCount + b.rpc.connectionCount === 0 && (await a.rpc.registry.list({ kind: 'rpc' })).length === 0, 'every connection gone');
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    if (storageB !== getStorage()) await storageB?.close();
  });

  const user = async (server: RpcServer, username: string): Promise<FusionRpcClient> => {
    const client = await userClient(server, username);
    clients.push(client);
    return client;
  };

  it('sends a reverse request to a user on this instance and on the other one, and reports offline users', async () => {
    const aliceOnA = await user(a, 'alice');
    aliceOnA.handle('ui.confirm', (params) => ({ ok: true, asked: (params as { question: string }).question, where: 'A' }));
    const bobOnB = await user(b, 'bob');
    bobOnB.handle('ui.confirm', () => ({ ok: false, where: 'B' }));
    expect(await a.rpc.reverseRequest('alice', 'ui.confirm', { question: 'sure?' })).toEqual({ ok: true, asked: 'sure?', where: 'A' });
    expect(await a.rpc.reverseRequest('bob', 'ui.confirm', {})).toEqual({ ok: false, where: 'B' });
    expect(await b.rpc.reverseRequest('alice', 'ui.confirm', { question: 'from B' })).toMatchObject({ where: 'A' });
    expect(await a.rpc.reverseRequest('nobody', 'ui.confirm', {})).toEqual({ delivered: false, reason: 'offline' });
  });

  it('times out a reverse request nobody answers, and rejects with the client error', async () => {
    const alice = await user(b, 'alice');
    alice.handle('ui.hang', () => new Promise(() => undefined));
    alice.handle('ui.fail', () => {
      throw Object.assign(new Error('user said no'), { code: 'FUSION_ERR_FORBIDDEN' });
    });
    await expect(a.rpc.reverseRequest('alice', 'ui.hang', {}, { timeout: 0.3 })).rejects.toMatchObject({ rpcCode: -32008, code: 'FUSION_ERR_TIMEOUT' });
    await expect(a.rpc.reverseRequest('alice', 'ui.fail', {})).rejects.toMatchObject({ message: 'user said no', code: 'FUSION_ERR_FORBIDDEN' });
    await expect(a.rpc.reverseRequest('alice', 'ui.unknown', {})).rejects.toMatchObject({ rpcCode: -32601 });
  });

  it("with target 'first', goes on to the user's next connection when one does not handle the method or is gone", async () => {
    const lacking = await user(a, 'bob'); // this instance's first connection of bob: no handler
    const leaving = await user(a, 'bob'); // closes instead of answering
    let leavingAsked = 0;
    leaving.handle('ui.confirm', () => {
      leavingAsked++;
      void leaving.close();
      return new Promise(() => undefined);
    });
    const onB = await user(b, 'bob');
    onB.handle('ui.confirm', () => 'yes from B');
    expect(await a.rpc.reverseRequest('bob', 'ui.confirm', {}, { timeout: 20 })).toBe('yes from B');
    expect(leavingAsked).toBe(1);
    // Still connected, but none handles it: the refusal; none connected: offline.
    await onB.close();
    await until(async () => (await a.rpc.registry.list({ username: 'bob' })).length === 1, 'only the lacking connection left');
    await expect(a.rpc.reverseRequest('bob', 'ui.confirm', {}, { timeout: 20 })).rejects.toMatchObject({ rpcCode: -32601 });
    await lacking.close();
    await until(async () => (await a.rpc.registry.list({ username: 'bob' })).length === 0, 'bob gone');
    expect(await a.rpc.reverseRequest('bob', 'ui.confirm', {}, { timeout: 20 })).toEqual({ delivered: false, reason: 'offline' });
  });

  it("asks every connection of the user with target 'all', on both instances", async () => {
    const onA = await user(a, 'bob');
    const onB = await user(b, 'bob');
    const slow = await user(b, 'bob');
    onA.handle('ping', () => 'pong from A');
    onB.handle('ping', () => 'pong from B');
    slow.handle('ping', () => new Promise(() => undefined));
    const answers = (await a.rpc.reverseRequest('bob', 'ping', {}, { target: 'all', timeout: 1 })) as ReverseAnswer[];
    expect(answers).toHaveLength(3);
    expect(answers.filter((answer) => answer.result !== undefined).map((answer) => answer.result).sort()).toEqual(['pong from A', 'pong from B']);
    expect(answers.find((answer) => answer.connection === slow.connectionId)).toMatchObject({ error: { code: -32008 } });
  });

  it('delivers a broadcast to members on both instances once, in order, and lists presence from either', async () => {
    const channel = `room/${Date.now()}`;
    const alice = await user(a, 'alice');
    const bob = await user(b, 'bob');
    const got: Record<string, [number, unknown][]> = { alice: [], bob: [] };
    const joinA = await alice.join(channel, (data, id) => got.alice!.push([id, data]));
    expect(joinA.members).toEqual(['alice']);
    const joinB = await bob.join(channel, (data, id) => got.bob!.push([id, data]));
    expect(joinB.members).toEqual(['alice', 'bob']);
    expect(await a.rpc.presence(channel)).toEqual(['alice', 'bob']);
    expect(await alice.presence(channel)).toEqual(['alice', 'bob']);
    for (let n = 0; n < 10; n++) await (n % 2 === 0 ? a : b).rpc.broadcast(channel, { n });
    await until(() => got.alice!.length === 10 && got.bob!.length === 10, 'both got 10');
    expect(got.alice!.map(([, data]) => (data as { n: number }).n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(got.bob).toEqual(got.alice);
    const ids = got.alice!.map(([id]) => id);
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
    await bob.leave(channel);
    expect(await a.rpc.presence(channel)).toEqual(['alice']);
    expect(b.rpc.roomCount).toBe(0); // the room on B closed with its last member
  });

  it('replays what a member missed with `since`, and resets when it is older than retention', async () => {
    const channel = `room/replay-${Date.now()}`;
    const ids: number[] = [];
    for (let n = 0; n < 5; n++) ids.push(await a.rpc.broadcast(channel, { n }));
    const late = await user(b, 'bob');
    const replayed: unknown[] = [];
    const joined = await late.join(channel, (data) => replayed.push(data), { since: ids[1] });
    expect(replayed).toEqual([{ n: 2 }, { n: 3 }, { n: 4 }]);
    expect(joined.last_id).toBe(ids[4]);
    // Age the first three, prune: joining from before them resets.
    await getStorage().knex(CHANNEL_MESSAGE_TABLE).whereIn('id', ids.slice(0, 3)).update({ created_at: getStorage().knex.raw(`now() - interval '2 days'`) });
    expect(await a.rpc.prune()).toBe(3);
    const resets: number[] = [];
    const again: unknown[] = [];
    const other = await user(a, 'alice');
    const result = await other.join(channel, (data) => again.push(data), { since: ids[0], onReset: (lastId) => resets.push(lastId) });
    expect(resets).toEqual([ids[4]]);
    expect(again).toEqual([]);
    expect(result.last_id).toBe(ids[4]);
  });

  it('re-joins after a reconnect with `since`: nothing lost, nothing twice', async () => {
    const channel = `room/reconnect-${Date.now()}`;
    connectionsOf.delete('bob');
    const reconnected: number[] = [];
    const bob = await userClient(b, 'bob', { onReconnect: () => reconnected.push(Date.now()) });
    clients.push(bob);
    const got: number[] = [];
    await bob.join(channel, (data) => got.push((data as { n: number }).n));
    await a.rpc.broadcast(channel, { n: 0 });
    await until(() => got.length === 1, 'first message');
    connectionsOf.get('bob')!.at(-1)!.close(1012, 'restarting');
    for (let n = 1; n <= 5; n++) await a.rpc.broadcast(channel, { n });
    await until(() => reconnected.length === 1, 'reconnected');
    for (let n = 6; n <= 8; n++) await b.rpc.broadcast(channel, { n });
    await until(() => got.length >= 9, 'all nine');
    await new Promise((resolve) => setTimeout(resolve, 100)); // time for a duplicate to show up
    expect(got).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('authorizes joins per channel pattern and refuses undeclared channels', async () => {
    const eve = await user(a, 'eve');
    const alice = await user(a, 'alice');
    await expect(eve.join('private/plans', () => undefined)).rejects.toMatchObject({ rpcCode: -32003 });
    await expect(alice.join('private/plans', () => undefined)).resolves.toMatchObject({ members: ['alice'] });
    await expect(alice.join('nowhere/1', () => undefined)).rejects.toMatchObject({ rpcCode: -32003 });
    const p = await WsProbe.open(a.wsUrl, await userHeaders(a, 'alice'));
    expect(await p.call(1, 'rpc.join', { channel: 42 })).toMatchObject({ error: { code: -32602 } });
    expect(await p.call(2, 'rpc.join', { channel: 'room/x', since: -1 })).toMatchObject({ error: { code: -32602 } });
    await p.close();
  });

  it('carries the events of a case on channel case/<guid>, with the SSE ids, authorized like SSE', async () => {
    const service = await serviceClient(a);
    clients.push(service);
    const created = (await service.call('case.create', { case: { name: 'watched', acs: ['soc'] } })) as { guid: string };
    const channel = `case/${created.guid}`;
    const alice = await user(b, 'alice');
    const events: [number, { category: string }][] = [];
    await alice.join(channel, (data, id) => events.push([id, data as { category: string }]));
    await service.call('case.update', { guid: created.guid, patch: { name: 'watched 2' } });
    await until(() => events.some(([, e]) => e.category === 'update_case'), 'update event on B');
    const eve = await user(a, 'eve');
    await expect(eve.join(channel, () => undefined)).rejects.toMatchObject({ rpcCode: -32003 });
    // Replay from before the update gives the same event with the same id.
    const late = await user(a, 'bob');
    const replayed: number[] = [];
    await late.join(channel, (_data, id) => replayed.push(id), { since: events[0]![0] - 1 });
    expect(replayed[0]).toBe(events[0]![0]);
  });

  it('drops a member from case/<guid> when an update takes the case out of its reach, on either instance', async () => {
    const service = await serviceClient(a);
    clients.push(service);
    const created = (await service.call('case.create', { case: { name: 'narrowing', acs: ['soc'] } })) as { guid: string };
    const channel = `case/${created.guid}`;
    const seen = { alice: [] as string[], bob: [] as string[], service: [] as string[] };
    const left: string[] = [];
    const alice = await user(b, 'alice');
    const bob = await user(a, 'bob');
    await alice.join(channel, (data) => seen.alice.push((data as { category: string }).category), { onLeft: (reason) => left.push(`alice:${reason}`) });
    await bob.join(channel, (data) => seen.bob.push((data as { category: string }).category), { onLeft: (reason) => left.push(`bob:${reason}`) });
    await service.join(channel, (data) => seen.service.push((data as { category: string }).category));
    expect((await service.presence(channel)).filter((name) => name !== 'service')).toEqual(['alice', 'bob']);

    await service.call('case.update', { guid: created.guid, patch: { acs: ['outsiders'] } });
    await until(() => left.length === 2, 'both members told they left');
    expect(left.sort()).toEqual(['alice:forbidden', 'bob:forbidden']);
    await service.call('case.update', { guid: created.guid, patch: { name: 'after' } });
    await until(() => seen.service.filter((category) => category === 'update_case').length === 2, 'the service (still allowed) sees both updates');
    // The members saw neither the update that shut them out nor the one after; they are out of presence; their sockets stay usable.
    expect(seen.alice).not.toContain('update_case');
    expect(seen.bob).not.toContain('update_case');
    expect((await service.presence(channel)).filter((name) => name !== 'service')).toEqual([]);
    expect(await alice.call('whoami', {})).toBe('alice');
    await expect(alice.join(channel, () => undefined)).rejects.toMatchObject({ rpcCode: -32003 });
  });
});
