import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createWebhookReceiver } from '../../../../src/client/webhook-receiver.js';
import { createLogger } from '../../../../src/helper/logging.js';
import { createWebhookDispatcher } from '../../../../src/server/event/webhook/dispatcher.js';
import type { KnexStorage } from '../../../../src/server/storage/knex-storage.js';
import { TEST_PG_URL, freshStorage, isCi, pgUnavailableReason } from '../../../helpers/storage.js';
import { deliveriesOf, newSecret, startReceiver, testWebhookConfig, waitFor } from './harness.js';
import type { TestReceiver } from './harness.js';

const CHILD = fileURLToPath(new URL('./fixtures/crash-child.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
const reason = pgUnavailableReason();
const describePg = reason === null || isCi() ? describe : describe.skip;
if (reason !== null && !isCi()) console.warn(`webhook restart test skipped: ${reason}`);

describePg('webhook deliveries after a crash (SIGKILL)', () => {
  let storage: KnexStorage;
  let hook: TestReceiver;

  beforeAll(async () => {
    storage = await freshStorage('postgres');
    hook = await startReceiver(() => 'reset');
  }, 60_000);

  afterAll(async () => {
    await hook?.close();
    await storage?.close();
  });

  it('delivers what a killed server left pending, once each, when another one starts', async () => {
    const secret = newSecret();
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, TEST_PG_URL, storage.schema!, hook.url, '5'], {
      cwd: REPO,
      env: { ...process.env, WEBHOOK_SECRET: secret },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const line = await waitFor(() => /enqueued (\S+)\n/.exec(output), 30_000, 'the child to enqueue');
    const ids = line[1]!.split(',');
    await waitFor(() => hook.requests.length >= 5, 15_000, 'failed attempts from the child');
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    for (const id of ids) expect((await deliveriesOf(storage, id))[0]).toMatchObject({ status: 'pending' });

    hook.answer = () => 200;
    const before = hook.requests.length;
    const dispatcher = createWebhookDispatcher(testWebhookConfig({ secrets: [secret], trusted: [hook.url] }), { storage, logger: createLogger({ level: 'silent' }) });
    await dispatcher.start();
    try {
      for (const id of ids) await waitFor(async () => (await deliveriesOf(storage, id))[0]?.status === 'delivered', 20_000, `delivery of event ${id}`);
    } finally {
      await dispatcher.close();
    }
    const delivered = hook.requests.slice(before).filter((r) => r.status === 200);
    expect(delivered).toHaveLength(5);
    const verifier = createWebhookReceiver({ secret });
    const names = delivered.map((r) => verifier.verify(r.headers, r.body).case.name).sort();
    expect(names).toEqual(['crash 0', 'crash 1', 'crash 2', 'crash 3', 'crash 4']);
  }, 60_000);
});
