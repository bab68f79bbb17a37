/**
 * examples/chat on two `fusion serve` processes sharing one PostgreSQL database: alice on one
 * instance, bob on the other; reverse requests and a room across them; the instance holding
 * bob killed with SIGKILL: bob leaves the room within the lease.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { FusionAuthAPIClient } from '../../src/client/api/auth.js';
import { FusionRpcClient } from '../../src/client/api/rpc.js';
import { FusionClient } from '../../src/client/client.js';
import type { ChatRpc } from '../../examples/chat/chat-service.js';
import { expectDocShowsExampleFile } from '../helpers/doc-example-file.js';
import { TEST_PG_URL, isCi, pgUnavailableReason } from '../helpers/storage.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const reason = pgUnavailableReason();
if (reason !== null && !isCi()) console.warn(`chat example test skipped: ${reason}`);
const describePg = reason === null || isCi() ? describe : describe.skip;

interface Instance {
  child: ChildProcess;
  baseUrl: string;
}

const children: ChildProcess[] = [];

function serve(storageUrl: string): Promise<Instance> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--config', 'examples/chat/config.yaml', '--port', '0', '--storage-url', storageUrl], {
    cwd: ROOT,
    env: { ...process.env, FUSION_DEBUG: '', FUSION_LOGFILE: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /listening at (http:\/\/127\.0\.0\.1:\d+)/i.exec(output);
      if (match) resolve({ child, baseUrl: match[1]! });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`fusion serve exited with ${code}: ${output.slice(-2000)}`)));
  });
}

async function connect(baseUrl: string, username: string): Promise<{ rpc: FusionRpcClient<ChatRpc>; http: FusionClient }> {
  const http = new FusionClient({ baseUrl });
  await new FusionAuthAPIClient({ client: http }).login(username, `${username}-chat-pw`);
  const rpc = await FusionRpcClient.connect<ChatRpc>({ url: baseUrl, cookie: `FUSION_SESSION=${http.sessionCookie ?? ''}`, reconnect: false });
  return { rpc, http };
}

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`until: ${what} not met after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describePg('examples/chat on two instances', () => {
  const database = `fusion_chat_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_PG_URL });
  const instances: Instance[] = [];
  const closers: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
    const url = new URL(TEST_PG_URL);
    url.pathname = `/${database}`;
    // One after the other: both would migrate the fresh database at once otherwise (safe, only slower).
    instances.push(await serve(url.toString()));
    instances.push(await serve(url.toString()));
  }, 120_000);

  afterAll(async () => {
    for (const close of closers) await close().catch(() => undefined);
    for (const child of children) child.kill('SIGKILL');
    await Promise.all(children.map((child) => (child.exitCode === null && child.signalCode === null ? new Promise((resolve) => child.once('exit', resolve)) : null)));
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
  }, 60_000);

  it('delivers chat.send from alice (instance 1) to bob (instance 2), says offline otherwise, and shares a room; bob leaves when his instance is killed', async () => {
    const [one, two] = instances as [Instance, Instance];
    const alice = await connect(one.baseUrl, 'alice');
    closers.push(() => alice.rpc.close(), () => alice.http.close());
    const bob = await connect(two.baseUrl, 'bob');
    closers.push(() => bob.rpc.close(), () => bob.http.close());
    const inbox: unknown[] = [];
    bob.rpc.handle('chat.receive', (params) => {
      inbox.push(params);
      return { read: true };
    });
    expect(await alice.rpc.call('chat.send', { to: 'bob', message: 'hi bob' })).toEqual({ delivered: true });
    expect(inbox).toEqual([{ from: 'alice', message: 'hi bob' }]);
    expect(await bob.rpc.call('chat.send', { to: 'carol', message: 'anyone?' })).toEqual({ delivered: false, reason: 'offline' });
    await expect(alice.rpc.call('chat.send', { to: 'bob' } as never)).rejects.toMatchObject({ rpcCode: -32602 });

    const heard: Record<string, unknown[]> = { alice: [], bob: [] };
    await alice.rpc.join('chat/general', (data) => heard.alice!.push(data));
    const joined = await bob.rpc.join('chat/general', (data) => heard.bob!.push(data));
    expect(joined.members).toEqual(['alice', 'bob']);
    await alice.rpc.call('chat.post', { room: 'general', message: 'hello room' });
    await bob.rpc.call('chat.post', { room: 'general', message: 'hello back' });
    await until(() => heard.alice!.length === 2 && heard.bob!.length === 2, 'both heard both');
    expect(heard.bob).toEqual([{ from: 'alice', message: 'hello room' }, { from: 'bob', message: 'hello back' }]);
    expect(heard.alice).toEqual(heard.bob);

    // kill -9 the instance holding bob: no cleanup runs; the lease (rpc.lease: 6 s) sweeps him out.
    two.child.kill('SIGKILL');
    await until(async () => (await alice.rpc.presence('chat/general')).join() === 'alice', 'bob swept from the room', 45_000);
    expect(await alice.rpc.call('chat.send', { to: 'bob', message: 'still there?' })).toEqual({ delivered: false, reason: 'offline' });
  }, 120_000);
});

describe('docs/rpc.md', () => {
  it('shows exactly the chat service module the test runs', async () => {
    await expectDocShowsExampleFile('docs/rpc.md', 'examples/chat/chat-service.ts');
  });
});
