import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestServer } from '../../../src/testing/index.js';
import { describeStorage } from '../../helpers/storage.js';
import { gatedStorage, silenceAudit, startCaseServer, tag } from './helpers.js';

describeStorage('FusionCaseAPI update serialization', (getStorage) => {
  silenceAudit();
  let t: TestServer;
  let gated: ReturnType<typeof gatedStorage>;

  beforeAll(async () => {
    gated = gatedStorage(getStorage());
    t = await startCaseServer(gated.storage);
  }, 60_000);

  afterAll(async () => {
    gated?.release();
    await t?.close();
  });

  it('never lets an edit that loaded the case before a close overwrite the close', async () => {
    const alice = t.clients.user;
    const created = await alice.case.createCase({ name: `race ${tag()}` });
    const edit = alice.case.updateCase(created.guid, { description: 'slow edit' });
    await gated.held; // the edit has loaded the open case and is about to store it
    const close = alice.case.closeCase(created.guid);
    await Promise.race([close.catch(() => undefined), sleep(300)]); // without a per-case lock the close lands here
    gated.release();
    const [edited, closed] = await Promise.all([edit, close]);
    expect(edited.description).toBe('slow edit');
    expect(closed.closed).toBeInstanceOf(Date);
    const final = await getStorage().retrieveCase(t.server.caseClass, created.guid);
    expect(final?.closed).toBeInstanceOf(Date);
    expect(final?.description).toBe('slow edit');
  });
});
