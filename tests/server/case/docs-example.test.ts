import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FusionCaseAPIClient } from '../../../src/client/api/case.js';
import { FusionClient } from '../../../src/client/client.js';
import type { TestServer } from '../../../src/testing/index.js';
import { createTestServer } from '../../../src/testing/index.js';
import { describeStorage } from '../../helpers/storage.js';
import { exampleIn } from '../../helper/docs-example.js';
import { silenceAudit } from './helpers.js';
import type { TimelineCaseAPI } from './timeline.example.js';
import { TimelineCase, timelineCaseAPI } from './timeline.example.js';

const DOC = new URL('../../../docs/cases.md', import.meta.url);
const EXAMPLE = new URL('./timeline.example.ts', import.meta.url);
const MARKER = '<!-- example: tests/server/case/timeline.example.ts -->';

/** The code without its import lines (paths differ between docs and tests). */
function body(code: string): string {
  return code
    .split('\n')
    .filter((line) => !line.startsWith('import '))
    .join('\n')
    .trim();
}

/** The example file without its first line (the comment saying where it is shown). */
function fileBody(code: string): string {
  return body(code.slice(code.indexOf('\n') + 1));
}

describe('docs/cases.md', () => {
  it('shows exactly the service example the tests run', async () => {
    const doc = await readFile(DOC, 'utf8');
    const start = doc.indexOf(MARKER);
    expect(start).toBeGreaterThan(-1);
    const block = /```ts\n([\s\S]*?)```/.exec(doc.slice(start));
    expect(block).not.toBeNull();
    expect(body(block![1]!)).toBe(fileBody(await readFile(EXAMPLE, 'utf8')));
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
