import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Case } from '../../../src/concept/index.js';
import { openStorage } from '../../../src/server/storage/open-storage.js';
import { freshStorage, quietLogger } from '../../helpers/storage.js';

/** PGlite opens take seconds of CPU; on a loaded 2-core machine they need more than jest's default. */
const SLOW_MS = 120_000;

describe('openStorage', () => {
  let tmp: string;

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'fusion-storage-'));
  });

  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('refuses a bad URL with a ConfigError naming storage.url and the accepted schemes', async () => {
    await expect(openStorage('redis://localhost:6379')).rejects.toMatchObject({
      code: 'FUSION_ERR_CONFIG',
      key: 'storage.url',
      message: expect.stringMatching(/^storage\.url: unsupported scheme "redis:\/\/".*postgres:\/\/.*pglite:\/\/DIR.*memory:\/\//),
    });
  });

  it('refuses a schema that is not a plain identifier', async () => {
    await expect(openStorage('memory://', { schema: 'bad; DROP TABLE x' })).rejects.toMatchObject({
      code: 'FUSION_ERR_CONFIG',
      key: 'storage.schema',
    });
  });

  it('reports an unreachable PostgreSQL without its password', async () => {
    const error = await openStorage('postgres://fusion:topsecret@127.0.0.1:1/none', { logger: quietLogger }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'FUSION_ERR_STORAGE', message: expect.stringContaining('cannot connect to postgres://fusion:***@127.0.0.1:1/none') });
    expect((error as Error).message).not.toContain('topsecret');
  });

  it('keeps pglite://DIR data across close and reopen, resolving relative paths against baseDir', async () => {
    const url = 'pglite://db/nested';
    const first = await openStorage(url, { baseDir: tmp });
    expect(first.kind).toBe('pglite');
    await first.migrate();
    const c = await first.createCase(new Case({ name: 'persisted', acs: ['soc'] }));
    await first.close();
    await first.close(); // idempotent
    expect(await readdir(join(tmp, 'db', 'nested'))).toContain('PG_VERSION');

    const second = await openStorage(url, { baseDir: tmp });
    try {
      await second.migrate();
      expect((await second.retrieveCase(Case, c.guid))?.toJSON()).toEqual(c.toJSON());
    } finally {
      await second.close();
    }
  }, SLOW_MS);

  it('refuses a second opener of the same pglite directory until the first closes', async () => {
    const url = `pglite://${join(tmp, 'locked')}`;
    const first = await openStorage(url);
    try {
      await expect(openStorage(url, { lockWaitMs: 0 })).rejects.toMatchObject({
        code: 'FUSION_ERR_STORAGE',
        message: expect.stringContaining('is in use by another storage'),
      });
    } finally {
      await first.close();
    }
    const again = await openStorage(url, { lockWaitMs: 0 });
    await again.close();
  }, SLOW_MS);

  it('gives every memory:// storage its own database', async () => {
    const a = await freshStorage('pglite');
    const b = await freshStorage('pglite');
    try {
      const c = await a.createCase(new Case({ name: 'only in a' }));
      expect(await b.retrieveCase(Case, c.guid)).toBeNull();
      expect(a.kind).toBe('memory');
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  }, SLOW_MS);

  it('opens memory:// directly', async () => {
    const storage = await openStorage('memory://');
    try {
      await storage.migrate();
      expect(await storage.enumerateCases(Case)).toEqual([]);
    } finally {
      await storage.close();
    }
  }, SLOW_MS);
});
