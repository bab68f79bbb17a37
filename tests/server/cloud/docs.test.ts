import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { expectDocShowsExampleFile } from '../../helpers/doc-example-file.js';
import { DOCUMENTED_OUTCOME, startCloud } from './harness.js';
import type { CloudHarness } from './harness.js';
import { janeSharesWithMike } from './scenario.example.js';

describe('docs/cloud.md', () => {
  let cloud: CloudHarness;

  beforeAll(async () => {
    cloud = await startCloud();
  }, 60_000);
  afterAll(async () => {
    await cloud?.close();
  });

  it('shows exactly the scenario the tests run', async () => {
    await expectDocShowsExampleFile('docs/cloud.md', 'tests/server/cloud/scenario.example.ts');
  });

  it('Jane shares with Mike on the local driver, as the page says', async () => {
    expect(await janeSharesWithMike(cloud.server.baseUrl)).toEqual(DOCUMENTED_OUTCOME);
  });
});
