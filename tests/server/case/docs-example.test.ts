import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FusionCaseAPIClient } from '../../../src/client/api/case.js';
import { FusionClient } from '../../../src/client/client.js';
import type { TestServer } from '../../../src/testing/index.js';
import { createTestServer } from '../../../src/testing/index.js';
import { expectDocShowsExampleFile } from '../../helpers/doc-example-file.js';
import { describeStorage } from '../../helpers/storage.js';
import { exampleIn } from '../../helper/docs-example.js';
import { silenceAudit } from './helpers.js';
import type { TimelineCaseAPI } from './timeline.example.js';
import { TimelineCase, timelineCaseAPI } from './timeline.example.js';

const DOC = new URL('../../../docs/cases.md', import.meta.url);

describe('docs/cases.md', () => {
  it('shows exactly the service example the tests run', async () => {
    await expectDocShowsExampleFile('docs/cases.md', 'tests/server/case/timeline.example.ts');
  });

  it('shows exactly the client example the tests run', async () => {
    expect(await readFile(DOC, 'utf8')).toContain(exampleIn('tests/server/case/docs-example.test.ts'));
  });
});

describeStorage('docs example: a timeline service', (getStorage) => {
  silenceAudit();
  let t: TestServer<TimelineCase>;
  let api: TimelineCaseAPI;

  beforeAll(async () => {
    api = timelineCaseAPI();
    t = await createTestServer({ storage: getStorage(), caseClass: TimelineCase, apis: [api] });
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  it('creates, updates and closes a TimelineCase through the client', async () => {
    const { baseUrl, apiKey } = t;
    // --- example starts
    const client = new FusionClient({ baseUrl, apiKey });
    const cases = new FusionCaseAPIClient({ client, caseClass: TimelineCase });
    const created = await cases.createCase({ name: 'Phishing wave', color: 'blue', acs: ['analysts'] });
    await cases.updateCase(created.guid, { description: '12 mailboxes hit' });
    const closed = await cases.closeCase(created.guid); // later updates answer 409
    // --- example ends
    try {
      expect(closed).toBeInstanceOf(TimelineCase);
      expect(closed.toJSON()).toMatchObject({ name: 'Phishing wave', color: 'blue', description: '12 mailboxes hit', managed: true });
      expect(closed.tsid).toBe(`TL-${created.guid.slice(0, 8)}`);
      expect(api.changes).toEqual([`create_case ${created.guid}`, `update_case ${created.guid}`, `update_case ${created.guid}`]);
      await expect(t.clients.user.case.deleteCase(created.guid)).rejects.toMatchObject({ status: 403, message: /this case is managed/ });
    } finally {
      await client.close();
    }
  });
});
