import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestServer } from '../../../src/testing/index.js';
import type { TestServer } from '../../../src/testing/index.js';
import { silenceAudit } from '../../server/event/helpers.js';
import { runFusion } from '../run-fusion.js';

describe('fusion events subscribe, against a live server', () => {
  silenceAudit();
  let t: TestServer;
  let env: Record<string, string>;

  beforeAll(async () => {
    t = await createTestServer({ config: { event: {} } });
    env = { FUSION_URL: t.baseUrl, FUSION_API_KEY: t.apiKey };
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  it('prints each event on one line as it comes, and stops after --count', async () => {
    const { guid } = await t.clients.service.case.createCase({ name: 'Watched case' });
    let updated = false;
    const run = await runFusion(['events', 'subscribe', guid, '--count', '2'], {
      env,
      // Once the stream is open (the first line, `subscribers`, is printed), change the case.
      onStdout: () => {
        if (updated) return;
        updated = true;
        void t.clients.service.case.updateCase(guid, { description: 'changed while watched' });
      },
    });
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`^\\S+  subscribers  \\S+  ${guid}  Watched case`));
    expect(lines[1]).toMatch(new RegExp(`^\\d+  update_case  \\S+  ${guid}  Watched case`));
  });

  it('--json prints one JSON event per line; --last-event-id replays what came after it', async () => {
    const { guid } = await t.clients.service.case.createCase({ name: 'Replayed case' });
    await t.clients.service.case.updateCase(guid, { description: 'one' });
    await t.clients.service.case.updateCase(guid, { description: 'two' });
    const run = await runFusion(['events', 'subscribe', guid, '--count', '4', '--json', '--last-event-id', '0'], { env });
    expect(run.code).toBe(0);
    const events = run.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as { category: string; case: { description: string } });
    expect(events.map((e) => e.category)).toEqual(['subscribers', 'create_case', 'update_case', 'update_case']);
    expect(events.slice(2).map((e) => e.case.description)).toEqual(['one', 'two']);
  });

  it('exits 4 for an unknown case and 2 for a bad --count', async () => {
    expect((await runFusion(['events', 'subscribe', '00000000-0000-4000-8000-000000000000', '--count', '1'], { env })).code).toBe(4);
    const badCount = await runFusion(['events', 'subscribe', 'x', '--count', '0'], { env });
    expect(badCount).toMatchObject({ code: 2, stderr: expect.stringContaining("option '--count <n>' argument '0' is invalid. expected an integer >= 1") });
  });
});
