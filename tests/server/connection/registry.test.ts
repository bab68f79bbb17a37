import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createLogger } from '../../../src/helper/logging.js';
import { CONNECTION_TABLE, ConnectionRegistry } from '../../../src/server/connection/index.js';
import type { ConnectionRecord, ConnectionRegistryOptions } from '../../../src/server/connection/index.js';
import type { KnexStorage } from '../../../src/server/storage/knex-storage.js';
import { openStorage } from '../../../src/server/storage/open-storage.js';
import { TEST_PG_URL, describeStorage, freshStorage, isCi, pgUnavailableReason } from '../../helpers/storage.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const logger = createLogger({ level: 'silent' });
const listen = { minDelayMs: 20, maxDelayMs: 200 };

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`until: ${what} not met after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

interface Received {
  connectionId: string;
  payload: unknown;
}

/** A started registry that records what it receives. */
async function startRegistry(storage: KnexStorage, options: Partial<ConnectionRegistryOptions> = {}): Promise<{ registry: ConnectionRegistry; rpc: Received[]; tcp: Received[]; instance: unknown[] }> {
  const registry = new ConnectionRegistry({ storage, instanceId: randomUUID(), logger, listen, ...options });
  await registry.start();
  const rpc: Received[] = [];
  const tcp: Received[] = [];
  const instance: unknown[] = [];
  registry.handle('rpc', (connectionId, payload) => rpc.push({ connectionId, payload }));
  registry.handle('tcp', (connectionId, payload) => tcp.push({ connectionId, payload }));
  registry.handleInstance('ping', (payload) => instance.push(payload));
  return { registry, rpc, tcp, instance };
}

describeStorage('ConnectionRegistry', (getStorage) => {
  const opened: ConnectionRegistry[] = [];
  afterEach(async () => {
    for (const registry of opened.splice(0)) await registry.close();
  });
  const start = async (options: Partial<ConnectionRegistryOptions> = {}): ReturnType<typeof startRegistry> => {
    const started = await startRegistry(getStorage(), options);
    opened.push(started.registry);
    return started;
  };

  it('records connections with their instance, kind, client type, user and address, and lists them by selector', async () => {
    const { registry } = await start();
    const user = `u-${randomUUID()}`;
    const a = await registry.add({ kind: 'rpc', username: user, clientType: 'browser', remoteAddress: '10.0.0.1' });
    const b = await registry.add({ kind: 'tcp', username: user });
    const listed = await registry.list({ username: user });
    expect(listed.map((r) => r.id)).toEqual([a, b]);
    expect(listed[0]).toMatchObject({ id: a, instanceId: registry.instanceId, kind: 'rpc', clientType: 'browser', username: user, remoteAddress: '10.0.0.1' });
    expect(listed[0]!.expiresAt.getTime()).toBeGreaterThan(Date.now());
    expect((await registry.list({ username: user, kind: 'tcp' })).map((r) => r.id)).toEqual([b]);
    await registry.update(a, { clientType: 'cli' });
    expect((await registry.list({ id: a }))[0]!.clientType).toBe('cli');
    expect(await registry.list({ id: 'not-a-uuid' })).toEqual([]);
    await registry.remove(a);
    expect((await registry.list({ username: user })).map((r) => r.id)).toEqual([b]);
    expect(registry.localCount).toBe(1);
  });

  it('delivers to a local connection by id or selector through the handler of its kind, and `first` picks one', async () => {
    const { registry, rpc, tcp } = await start();
    const user = `u-${randomUUID()}`;
    const a = await registry.add({ kind: 'rpc', username: user });
    const b = await registry.add({ kind: 'tcp', username: user });
    expect(await registry.deliver(a, { n: 1 })).toEqual([a]);
    expect(rpc).toEqual([{ connectionId: a, payload: { n: 1 } }]);
    expect((await registry.deliver({ username: user }, { n: 2 })).sort()).toEqual([a, b].sort());
    expect(tcp).toEqual([{ connectionId: b, payload: { n: 2 } }]);
    expect(await registry.deliver({ username: user }, { n: 3 }, { first: true })).toHaveLength(1);
    expect(rpc.length + tcp.length).toBe(4);
    expect(await registry.deliver({ username: `nobody-${randomUUID()}` }, { n: 4 })).toEqual([]);
  });

  it('refuses an empty selector, an unknown kind, a malformed id and a payload that is not JSON', async () => {
    const { registry } = await start();
    await expect(registry.deliver({}, 1)).rejects.toThrow(/empty selector/);
    await expect(registry.deliver({ kind: 'udp' as 'rpc' }, 1)).rejects.toThrow(/unknown kind/);
    await expect(registry.deliver('42', 1)).rejects.toThrow(/UUID/);
    await expect(registry.deliver({ username: 'x' }, undefined)).rejects.toThrow(/JSON/);
    await expect(registry.add({ kind: 'smtp' as 'rpc' })).rejects.toThrow(/unknown kind/);
  });

  it('delivers across two instances: the payload is stored, NOTIFY names the instance, each arrives once', async () => {
    const one = await start();
    const two = await start();
    const user = `u-${randomUUID()}`;
    const onOne = await one.registry.add({ kind: 'rpc', username: user });
    const onTwo = await two.registry.add({ kind: 'rpc', username: user });
    expect(await one.registry.deliver(onTwo, { to: 'two' })).toEqual([onTwo]);
    await until(() => two.rpc.length === 1, 'delivery on two');
    expect(two.rpc[0]).toEqual({ connectionId: onTwo, payload: { to: 'two' } });
    const routed = await two.registry.deliver({ username: user }, { to: 'all' });
    expect(routed.sort()).toEqual([onOne, onTwo].sort());
    await until(() => one.rpc.length === 1 && two.rpc.length === 2, 'fan-out to both');
    expect(one.rpc[0]).toEqual({ connectionId: onOne, payload: { to: 'all' } });
    // A burst arrives in order, once.
    await Promise.all(Array.from({ length: 5 }, async (_, n) => one.registry.deliver(onTwo, { n })));
    for (let n = 5; n < 10; n++) await one.registry.deliver(onTwo, { n });
    await until(() => two.rpc.length === 12, 'burst on two');
    const ordered = two.rpc.slice(7).map((r) => (r.payload as { n: number }).n);
    expect(ordered).toEqual([5, 6, 7, 8, 9]);
    await one.registry.sendToInstance(two.registry.instanceId, 'ping', { from: 'one' });
    await two.registry.sendToInstance(two.registry.instanceId, 'ping', { from: 'self' });
    await until(() => two.instance.length === 2, 'instance messages');
    expect(two.instance).toEqual(expect.arrayContaining([{ from: 'one' }, { from: 'self' }]));
    expect(await getStorage().knex('fusion_connection_message').whereIn('instance_id', [one.registry.instanceId, two.registry.instanceId])).toEqual([]);
  });

  it('sweeps the rows of an instance that stopped renewing them (crash), keeps renewed ones, and reports them', async () => {
    const swept: ConnectionRecord[] = [];
    const { registry } = await start({ lease: 1, heartbeat: 0.25, onExpired: (records) => swept.push(...records) });
    const user = `u-${randomUUID()}`;
    const alive = await registry.add({ kind: 'rpc', username: user });
    const dead = randomUUID();
    await getStorage().knex(CONNECTION_TABLE).insert({ id: dead, instance_id: randomUUID(), kind: 'rpc', username: user, expires_at: new Date(Date.now() + 300) });
    expect((await registry.list({ username: user })).map((r) => r.id).sort()).toEqual([alive, dead].sort());
    await until(() => swept.some((r) => r.id === dead), 'the dead row swept');
    // Several leases later the live row is still there: the heartbeat renews it.
    const firstExpiry = (await registry.list({ id: alive }))[0]!.expiresAt.getTime();
    await until(async () => ((await registry.list({ id: alive }))[0]?.expiresAt.getTime() ?? 0) > firstExpiry + 500, 'the lease renewed');
    expect((await registry.list({ username: user })).map((r) => r.id)).toEqual([alive]);
  });

  it('re-inserts its own rows when a stall let them be swept, and close() removes them', async () => {
    const { registry } = await start({ lease: 30 });
    const id = await registry.add({ kind: 'tcp', username: `u-${randomUUID()}` });
    await getStorage().knex(CONNECTION_TABLE).where({ id }).delete();
    await registry.heartbeat();
    expect(await registry.list({ id })).toHaveLength(1);
    await registry.close();
    expect(await getStorage().knex(CONNECTION_TABLE).where({ id })).toEqual([]);
    await expect(registry.add({ kind: 'rpc' })).rejects.toMatchObject({ code: 'FUSION_ERR_UNAVAILABLE' });
  });
});

const reason = pgUnavailableReason();
if (reason !== null && !isCi()) console.warn(`connection registry kill -9 test skipped: ${reason}`);
const describePg = reason === null || isCi() ? describe : describe.skip;

describePg('ConnectionRegistry: an instance killed with SIGKILL', () => {
  let storage: KnexStorage;
  let child: ChildProcess | undefined;
  beforeAll(async () => {
    storage = await freshStorage('postgres');
  }, 60_000);
  afterAll(async () => {
    child?.kill('SIGKILL');
    await storage?.close();
  });

  it('loses its connections within the lease, swept by a live instance', async () => {
    const survivor = await startRegistry(storage, { lease: 1.5, heartbeat: 0.3 });
    try {
      child = spawn(process.execPath, ['--import', 'tsx', 'tests/server/connection/registry-child.ts'], {
        cwd: ROOT,
        env: { ...process.env, REGISTRY_PG_URL: TEST_PG_URL, REGISTRY_SCHEMA: storage.schema!, REGISTRY_LEASE: '1.5' },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const childInstance = await new Promise<string>((resolve, reject) => {
        let out = '';
        child!.stdout!.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const match = /ready (\S+)/.exec(out);
          if (match) resolve(match[1]!);
        });
        child!.on('exit', (code) => reject(new Error(`child exited with ${code} before it was ready`)));
      });
      const ghosts = await survivor.registry.list({ username: 'ghost' });
      expect(ghosts).toHaveLength(2);
      expect(new Set(ghosts.map((r) => r.instanceId))).toEqual(new Set([childInstance]));
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
      child = undefined;
      await until(async () => (await storage.knex(CONNECTION_TABLE).where({ username: 'ghost' })).length === 0, 'the killed instance rows swept');
      expect(await survivor.registry.deliver({ username: 'ghost' }, { hello: true })).toEqual([]);
    } finally {
      await survivor.registry.close();
    }
  }, 60_000);

  it('shares one table between two storages on the same schema', async () => {
    const other = await openStorage(TEST_PG_URL, { schema: storage.schema! });
    const one = await startRegistry(storage);
    const two = await startRegistry(other);
    try {
      const id = await two.registry.add({ kind: 'rpc', username: 'carol' });
      await one.registry.deliver({ username: 'carol' }, 'hi');
      await until(() => two.rpc.length === 1, 'delivery through PostgreSQL');
      expect(two.rpc[0]).toEqual({ connectionId: id, payload: 'hi' });
    } finally {
      await one.registry.close();
      await two.registry.close();
      await other.close();
    }
  }, 60_000);
});
