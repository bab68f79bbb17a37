/** Cloud events: cloud_create, cloud_write, cloud_delete on the case a path starts with. */
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startCloud } from './harness.js';
import type { CloudHarness } from './harness.js';

describe('cloud events (event API mounted)', () => {
  let cloud: CloudHarness;

  beforeAll(async () => {
    cloud = await startCloud({ config: { event: {} } });
  }, 60_000);
  afterAll(async () => {
    await cloud?.close();
  });

  async function categories(caseGuid: string): Promise<{ category: string; path: unknown }[]> {
    const rows = (await cloud.server.server.storage.knex('fusion_event').where({ case_guid: caseGuid }).orderBy('id')) as { category: string; document: { ext?: { path?: unknown } } }[];
    return rows.map((row) => ({ category: row.category, path: row.document.ext?.path }));
  }

  it('publishes each change under /<case_guid>/ on that case, after the change is stored', async () => {
    const created = await cloud.server.clients.service.case.createCase({ name: 'with files' });
    const guid = created.guid;
    await cloud.service.createDirectory(`/${guid}`);
    await cloud.service.upload(Readable.from([Buffer.from('v1')]), `/${guid}/f.txt`);
    await cloud.service.upload(Readable.from([Buffer.from('v2')]), `/${guid}/f.txt`, { overwrite: true });
    await cloud.service.delete(`/${guid}/f.txt`);
    await cloud.service.createDirectory(`/${guid}/sub`);
    await cloud.service.upload(Readable.from([Buffer.from('by tus')]), `/${guid}/sub/t.txt`, { resumable: true, length: 6 });
    await cloud.service.deleteDirectory(`/${guid}/sub`, { recursive: true });
    const cloudEvents = (await categories(guid)).filter((event) => event.category.startsWith('cloud_'));
    expect(cloudEvents).toEqual([
      { category: 'cloud_create', path: `/${guid}` },
      { category: 'cloud_create', path: `/${guid}/f.txt` },
      { category: 'cloud_write', path: `/${guid}/f.txt` },
      { category: 'cloud_delete', path: `/${guid}/f.txt` },
      { category: 'cloud_create', path: `/${guid}/sub` },
      { category: 'cloud_create', path: `/${guid}/sub/t.txt` },
      { category: 'cloud_delete', path: `/${guid}/sub` },
    ]);
  });

  it('publishes nothing for paths that do not start with a case guid', async () => {
    const before = (await cloud.server.server.storage.knex('fusion_event').count({ n: '*' }))[0] as { n: string | number };
    await cloud.service.createDirectory('/plain');
    const after = (await cloud.server.server.storage.knex('fusion_event').count({ n: '*' }))[0] as { n: string | number };
    expect(Number(after.n)).toBe(Number(before.n));
  });
});
