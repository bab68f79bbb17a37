import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Case } from '../../../src/concept/index.js';
import { FUSION_MIGRATIONS } from '../../../src/server/storage/migrations.js';
import type { StorageMigration } from '../../../src/server/storage/migrations.js';
import { openStorage } from '../../../src/server/storage/open-storage.js';
import { migratedTemplateKey, pgliteCacheDir } from '../../../src/server/storage/pglite-template.js';
import { quietLogger } from '../../helpers/storage.js';

const SLOW_MS = 180_000;

const notesMigration: StorageMigration = {
  name: 'notes/0001_table',
  async up(knex) {
    await knex.schema.createTable('notes_note', (t) => {
      t.increments('id');
      t.text('text').notNullable();
    });
  },
};

describe('PGlite dumps for new embedded databases', () => {
  let tmp: string;
  let cache: string;
  const previous = process.env.FUSION_PGLITE_CACHE;
  const previousBundled = process.env.FUSION_PGLITE_BUNDLED;

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'fusion-pglite-template-'));
    cache = join(tmp, 'cache');
    process.env.FUSION_PGLITE_CACHE = cache;
    // The user cache alone (the package's bundle, pglite-bundled.test.ts, would serve the initdb dump).
    process.env.FUSION_PGLITE_BUNDLED = 'off';
  });

  afterAll(async () => {
    if (previous === undefined) delete process.env.FUSION_PGLITE_CACHE;
    else process.env.FUSION_PGLITE_CACHE = previous;
    if (previousBundled === undefined) delete process.env.FUSION_PGLITE_BUNDLED;
    else process.env.FUSION_PGLITE_BUNDLED = previousBundled;
    await rm(tmp, { recursive: true, force: true });
  });

  const dumps = async (): Promise<string[]> => (await readdir(cache).catch(() => [])).filter((name) => !name.endsWith('.tmp')).sort();

  it(
    'writes an initdb dump and a migrated one, which a new directory then starts from without the first data',
    async () => {
      const first = await openStorage('memory://', { logger: quietLogger, migrations: [notesMigration] });
      try {
        await first.migrate();
        await first.createCase(new Case({ name: 'written after the migration', acs: ['soc'] }));
      } finally {
        await first.close();
      }
      const names = await dumps();
      expect(names).toEqual([expect.stringMatching(/-initdb\.tgz$/), expect.stringMatching(/-migrated-[0-9a-f]{16}\.tgz$/)].sort());

      const second = await openStorage(`pglite://${join(tmp, 'db')}`, { logger: quietLogger, migrations: [notesMigration] });
      try {
        // Loaded already migrated: the tables are there, the case written after the dump is not.
        expect(await second.knex.schema.hasTable('notes_note')).toBe(true);
        await second.migrate();
        const [{ count }] = await second.knex('fusion_case').count<{ count: string | number }[]>('* as count');
        expect(Number(count)).toBe(0);
        await second.knex('notes_note').insert({ text: 'kept' });
      } finally {
        await second.close();
      }
      // An existing directory opens as it is.
      const reopened = await openStorage(`pglite://${join(tmp, 'db')}`, { logger: quietLogger, migrations: [notesMigration] });
      try {
        await reopened.migrate();
        expect(await reopened.knex('notes_note').select('text')).toEqual([{ text: 'kept' }]);
      } finally {
        await reopened.close();
      }
    },
    SLOW_MS,
  );

  it(
    'falls back when a dump is damaged, and replaces it',
    async () => {
      const migrated = (await dumps()).find((name) => name.includes('-migrated-'));
      expect(migrated).toBeDefined();
      await writeFile(join(cache, migrated!), 'not a tarball');
      const storage = await openStorage('memory://', { logger: quietLogger, migrations: [notesMigration] });
      try {
        await storage.migrate();
        expect(await storage.knex.schema.hasTable('notes_note')).toBe(true);
      } finally {
        await storage.close();
      }
      const dir = join(tmp, 'after-damage');
      const fromNewDump = await openStorage(`pglite://${dir}`, { logger: quietLogger, migrations: [notesMigration] });
      try {
        expect(await fromNewDump.knex.schema.hasTable('notes_note')).toBe(true);
      } finally {
        await fromNewDump.close();
      }
    },
    SLOW_MS,
  );

  it(
    'runs memory:// in a scratch directory removed on close, and removes those a dead process left',
    async () => {
      const child = spawn(process.execPath, ['-e', '']);
      await once(child, 'exit');
      const leftover = join(tmpdir(), `fusion-memory-${child.pid!}-test`);
      await mkdir(join(leftover, 'base'), { recursive: true });
      // /dev/shm when it has room, else the temporary directory.
      const roots = ['/dev/shm', tmpdir()];
      const mine = async (): Promise<string[]> => {
        const found: string[] = [];
        for (const root of roots) for (const name of await readdir(root).catch(() => [])) if (name.startsWith(`fusion-memory-${process.pid}-`)) found.push(join(root, name));
        return found;
      };
      const before = await mine();
      const storage = await openStorage('memory://', { logger: quietLogger, migrations: [notesMigration] });
      try {
        expect(existsSync(leftover)).toBe(false);
        const scratch = (await mine()).filter((name) => !before.includes(name));
        expect(scratch).toHaveLength(1);
        expect(existsSync(join(scratch[0]!, 'PG_VERSION'))).toBe(true);
        await storage.migrate();
        await storage.createCase(new Case({ name: 'scratch', acs: ['soc'] }));
      } finally {
        await storage.close();
      }
      expect(await mine()).toEqual(before);
    },
    SLOW_MS,
  );

  it('keys migrated dumps by schema and by the migrations names and code', () => {
    const base = migratedTemplateKey(FUSION_MIGRATIONS, undefined);
    expect(migratedTemplateKey(FUSION_MIGRATIONS, undefined)).toBe(base);
    expect(migratedTemplateKey(FUSION_MIGRATIONS, 'tenant')).not.toBe(base);
    expect(migratedTemplateKey([...FUSION_MIGRATIONS, notesMigration], undefined)).not.toBe(base);
    const changed: StorageMigration = { name: notesMigration.name, up: async (knex) => void (await knex.raw('SELECT 1')) };
    expect(migratedTemplateKey([...FUSION_MIGRATIONS, changed], undefined)).not.toBe(migratedTemplateKey([...FUSION_MIGRATIONS, notesMigration], undefined));
  });

  it('finds its cache directory from the environment, and none when turned off', () => {
    expect(pgliteCacheDir({ FUSION_PGLITE_CACHE: '/srv/cache' })).toBe('/srv/cache');
    expect(pgliteCacheDir({ FUSION_PGLITE_CACHE: 'off' })).toBeUndefined();
    expect(pgliteCacheDir({ XDG_CACHE_HOME: '/x' })).toBe('/x/fusion-framework');
    expect(pgliteCacheDir({ HOME: '/home/a' })).toBe('/home/a/.cache/fusion-framework');
  });
});
