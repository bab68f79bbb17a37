import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { KnexStorage } from '../../../src/server/storage/knex-storage.js';
import { openStorage } from '../../../src/server/storage/open-storage.js';
import type { TestServer } from '../../../src/testing/index.js';
import { TEST_PG_URL, freshStorage, isCi, pgUnavailableReason } from '../../helpers/storage.js';
import { USERS, gatedStorage, silenceAudit, startCaseServer, tag } from './helpers.js';
import { createTestServer } from '../../../src/testing/index.js';

const reason = pgUnavailableReason();
if (reason !== null && !isCi()) console.warn(`case multi-instance tests skipped: ${reason}`);
const describePg = reason === null || isCi() ? describe : describe.skip;

describePg('two FusionServer instances on one PostgreSQL schema', () => {
  silenceAudit();
  let storageA: KnexStorage;
  let storageB: KnexStorage;
  let gated: ReturnType<typeof gatedStorage>;
  let a: TestServer;
  let b: TestServer;

  beforeAll(async () => {
    storageA = await freshStorage('postgres'); // a fresh schema, dropped on close
    storageB = await openStorage(TEST_PG_URL, { schema: storageA.schema! }); // its own pool on the same schema
    gated = gatedStorage(storageA);
    a = await startCaseServer(gated.storage);
    b = await startCaseServer(storageB);
  }, 60_000);

  afterAll(async () => {
    gated?.release();
    await a?.close();
    await b?.close();
    await storageB?.close();
    await storageA?.close();
  });

  it('reads on one instance the case created, updated or deleted on the other', async () => {
    const created = await a.clients.user.case.createCase({ name: `shared ${tag()}`, acs: ['soc'] });
    expect((await b.clients.user.case.retrieveCase(created.guid)).equals(created)).toBe(true);
    const updated = await b.clients.user.case.updateCase(created.guid, { description: 'from b' });
    expect((await a.clients.user.case.retrieveCase(created.guid)).equals(updated)).toBe(true);
    const onA = (await a.clients.service.case.enumerateCases()).map((c) => c.toJSON());
    const onB = (await b.clients.service.case.enumerateCases()).map((c) => c.toJSON());
    expect(onB).toEqual(onA);
    await a.clients.user.case.deleteCase(created.guid);
    await expect(b.clients.user.case.retrieveCase(created.guid)).rejects.toMatchObject({ status: 404 });
  });

  it('serializes updates of one case across instances: a close on B waits for an edit on A', async () => {
    const created = await a.clients.user.case.createCase({ name: `cross ${tag()}` });
    const edit = a.clients.user.case.updateCase(created.guid, { description: 'slow edit' });
    await gated.held;
    const close = b.clients.user.case.closeCase(created.guid);
    await Promise.race([close.catch(() => undefined), sleep(300)]);
    gated.release();
    await Promise.all([edit, close]);
    const final = await storageB.retrieveCase(a.server.caseClass, created.guid);
    expect(final?.closed).toBeInstanceOf(Date);
    expect(final?.description).toBe('slow edit');
  });
});

describe('restart on the same pglite:// directory', () => {
  silenceAudit();
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fusion-case-restart-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps every case, closed and attached ones included', async () => {
    const config = { storage: { url: `pglite://${join(dir, 'db')}` } };
    const first = await createTestServer({ users: USERS, config });
    let expected: unknown[];
    try {
      const { user, service } = first.clients;
      await user.case.createCase({ name: 'plain', acs: ['soc'] });
      const closing = await user.case.createCase({ name: 'closed' });
      await user.case.closeCase(closing.guid);
      const attaching = await user.case.createCase({ name: 'attached' });
      await service.case.attachCase(attaching.guid, randomUUID());
      await service.case.createCase({ name: 'managed', description: 'made by a service' });
      expected = (await service.case.enumerateCases()).map((c) => c.toJSON());
      expect(expected).toHaveLength(4);
    } finally {
      await first.close();
    }
    const second = await createTestServer({ users: USERS, config });
    try {
      expect((await second.clients.service.case.enumerateCases()).map((c) => c.toJSON())).toEqual(expected);
    } finally {
      await second.close();
    }
  }, 60_000);
});
