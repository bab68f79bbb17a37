/**
 * Fast PGlite instances for tests: every fresh instance is loaded from a dump of a migrated
 * template instead of being created (initdb) and migrated again.
 *
 * Measured on the project machine under jest (2 cores, shared with other jobs, so ranges):
 * `new PGlite()` 2.0-3.4 s (initdb), migrating it 0.09 s, `dumpDataDir('gzip')` 0.5 s
 * (4.5 MB), `clone()` 0.7-1.1 s, `new PGlite({ loadDataDir })` from that dump 0.6-1.2 s;
 * `freshStorage('pglite')` 0.8-1.6 s in all, `freshStorage('postgres')` 0.1-0.3 s.
 * Loading the dump costs what a clone costs (a clone is a dump plus a load) without keeping
 * a template instance open, so that is what we do.
 *
 * "One template per jest worker" cannot live in memory: jest gives every test file its own
 * module registry and globals. So the dump is cached on disk, in
 * node_modules/.cache/fusion-test/, named by a hash of the PGlite version and the framework
 * migrations (names and code): the first test file of the first run pays create + migrate +
 * dump (~3 s), every other file in every worker only reads it (ms) and loads it. Within a
 * file the dump is kept in memory. Writes go through a temporary name and a rename, so
 * workers racing to create it are harmless. Instances run with the small shared buffers
 * openStorage gives them (PGLITE_START_PARAMS), which also makes each load cheaper.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { FUSION_MIGRATIONS } from '../../src/server/storage/migrations.js';
import { openPgliteStorage } from '../../src/server/storage/open-storage.js';
import { PGLITE_START_PARAMS } from '../../src/server/storage/pglite-create.js';

const CACHE_DIR = fileURLToPath(new URL('../../node_modules/.cache/fusion-test/', import.meta.url));
const PREFIX = 'pglite-template-';

let template: Promise<Blob> | undefined;

function templateKey(): string {
  const manifest = new URL('../../node_modules/@electric-sql/pglite/package.json', import.meta.url);
  const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string };
  const hash = createHash('sha256').update(`pglite ${version}\n`);
  for (const migration of FUSION_MIGRATIONS) hash.update(`${migration.name}\n${migration.up.toString()}\n`);
  return hash.digest('hex').slice(0, 16);
}

async function createTemplate(): Promise<Blob> {
  const pglite = new PGlite({ startParams: [...PGLITE_START_PARAMS] });
  await pglite.waitReady;
  const storage = openPgliteStorage(pglite);
  try {
    await storage.migrate();
    return await pglite.dumpDataDir('gzip');
  } finally {
    await storage.close();
  }
}

async function loadOrCreateTemplate(): Promise<Blob> {
  const file = join(CACHE_DIR, `${PREFIX}${templateKey()}.tgz`);
  try {
    return new Blob([await readFile(file)]);
  } catch {
    // Not cached yet (or unreadable): build it below.
  }
  const blob = await createTemplate();
  try {
    await mkdir(CACHE_DIR, { recursive: true });
    for (const name of await readdir(CACHE_DIR)) {
      if (name.startsWith(PREFIX) && !file.endsWith(name)) await rm(join(CACHE_DIR, name), { force: true });
    }
    const temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(temporary, Buffer.from(await blob.arrayBuffer()));
    await rename(temporary, file);
  } catch {
    // A read-only checkout still works, only slower.
  }
  return blob;
}

/** A new in-memory PGlite holding the framework's tables (migrated), ready to use. */
export async function newMigratedPglite(): Promise<PGlite> {
  template ??= loadOrCreateTemplate().catch((error: unknown) => {
    template = undefined;
    throw error;
  });
  const pglite = new PGlite({ loadDataDir: await template, startParams: [...PGLITE_START_PARAMS] });
  await pglite.waitReady;
  return pglite;
}
