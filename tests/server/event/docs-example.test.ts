import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Event } from '../../../src/concept/index.js';
import type { KnexStorage } from '../../../src/server/storage/knex-storage.js';
import { expectDocShowsExampleFile } from '../../helpers/doc-example-file.js';
import { freshStorage } from '../../helpers/storage.js';
import { followCase } from './follow-case.example.js';
import { ScanAPI } from './scan-service.example.js';
import { silenceAudit, startEventServer } from './helpers.js';
import type { EventServer } from './helpers.js';

describe('docs/events.md', () => {
  it.each(['scan-service.example.ts', 'follow-case.example.ts'])('shows exactly the example the tests run: %s', async (file) => {
    await expectDocShowsExampleFile('docs/events.md', `tests/server/event/${file}`);
  });
});

describe('docs example: one service emits, another follows by SSE', () => {
  silenceAudit();
  let storage: KnexStorage;
  let t: EventServer;

  beforeAll(async () => {
    storage = await freshStorage('pglite');
    t = await startEventServer(storage, { server: { apis: [new ScanAPI()] } });
  }, 60_000);

  afterAll(async () => {
    await t?.close();
    await storage?.close();
  });

  it('delivers the case API events and the service own `scan_done` to the follower, in order', async () => {
    const c = await t.clients.user.case.createCase({ name: 'phishing wave', acs: ['soc'] });
    const controller = new AbortController();
    const handled: Event[] = [];
    let started!: () => void;
    const ready = new Promise<void>((resolve) => {
      started = resolve;
    });
    const following = followCase(t.baseUrl, t.apiKey, c.guid, controller.signal, async (event) => {
      handled.push(event);
      if (event.category === 'scan_done') controller.abort();
    });
    // the follower is subscribed once its `subscribe` is stored (the API key client is `service`)
    const poll = setInterval(() => {
      void t.events.subscribers(c.guid).then((users) => users.includes('service') && started());
    }, 20);
    await ready;
    clearInterval(poll);
    await t.clients.user.case.updateCase(c.guid, { description: 'more mails' });
    expect(await t.clients.service.client.post(`/api/scan/${c.guid}`)).toEqual({ findings: 'phishing wave'.length });
    const lastEventId = await following;
    expect(handled.map((e) => e.category)).toEqual(['update_case', 'scan_done']);
    expect(handled[1]!.ext).toEqual({ findings: 13 });
    expect(handled[1]!.case.guid).toBe(c.guid);
    expect(lastEventId).toMatch(/^\d+$/);
  });
});
