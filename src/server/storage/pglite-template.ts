/**
 * Dumps of PGlite data directories, so that a new `memory://` or `pglite://DIR` database is
 * extracted from one (pglite-untar.ts, a fraction of a second) instead of running initdb (a
 * second PGlite instance plus the initdb program: several seconds of CPU and a peak near
 * 800 MB resident) and every migration.
 * Two kinds, both per PGlite version: `initdb` (freshly initialised, no table of ours) and
 * `migrated` (after a storage's migrations, keyed by the schema and the migrations' names and
 * code: migrations must not depend on anything else, such as the environment).
 *
 * They live in `FUSION_PGLITE_CACHE` (`off` disables them), else
 * `$XDG_CACHE_HOME/fusion-framework`, else `~/.cache/fusion-framework`. The first database
 * of a kind writes its dump; writes go through a temporary name and a rename, so concurrent
 * writers are harmless, and a cache that cannot be written only costs speed.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';

import type { StorageMigration } from './migrations.js';

const PREFIX = 'pglite-';
/** Migrated dumps kept (the newest): one per service and migration list in use. */
const MIGRATED_KEPT = 8;

/** Which dump: the freshly initialised one, or one after the migrations `migratedTemplateKey` names. */
export type PgliteTemplateKind = { readonly kind: 'initdb' } | { readonly kind: 'migrated'; readonly key: string };

/** The dumps' directory, or undefined when disabled (`off`) or no home or cache directory is known. */
export function pgliteCacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.FUSION_PGLITE_CACHE === 'off') return undefined;
  if (env.FUSION_PGLITE_CACHE) return env.FUSION_PGLITE_CACHE;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'fusion-framework');
  const home = env.HOME ?? homedir();
  return home ? join(home, '.cache', 'fusion-framework') : undefined;
}

let versionKey: string | undefined;

/** The installed PGlite's version: a dump is only loaded by the PGlite that made it. */
export function pgliteVersion(): string {
  if (versionKey === undefined) {
    // The package's exports hide package.json; its main file sits in dist/, next to it.
    const main = createRequire(import.meta.url).resolve('@electric-sql/pglite');
    const manifest = JSON.parse(readFileSync(join(dirname(main), '..', 'package.json'), 'utf8')) as { version?: unknown };
    versionKey = String(manifest.version ?? 'unknown').replace(/[^A-Za-z0-9._-]/g, '_');
  }
  return versionKey;
}

/** The key of the dump made after `migrations` ran in `schema` (default: none). */
export function migratedTemplateKey(migrations: readonly StorageMigration[], schema: string | undefined): string {
  const hash = createHash('sha256').update(`schema ${schema ?? ''}\n`);
  for (const migration of migrations) hash.update(`${migration.name}\n${migration.up.toString()}\n`);
  return hash.digest('hex').slice(0, 16);
}

/** The file name of `template`'s dump (it names the PGlite version and, for a migrated one, its key). */
export function templateName(template: PgliteTemplateKind): string {
  return template.kind === 'initdb' ? `${PREFIX}${pgliteVersion()}-initdb.tgz` : `${PREFIX}${pgliteVersion()}-migrated-${template.key}.tgz`;
}

/** The cached dump, or undefined when there is none (or it cannot be read). */
export async function readPgliteTemplate(template: PgliteTemplateKind, cacheDir = pgliteCacheDir()): Promise<Buffer | undefined> {
  if (cacheDir === undefined) return undefined;
  try {
    return await readFile(join(cacheDir, templateName(template)));
  } catch {
    return undefined;
  }
}

/** Removes a cached dump (e.g. after it failed to load). */
export async function dropPgliteTemplate(template: PgliteTemplateKind, cacheDir = pgliteCacheDir()): Promise<void> {
  if (cacheDir !== undefined) await rm(join(cacheDir, templateName(template)), { force: true });
}

/**
 * Dumps `pglite` as `template` (an `initdb` one must be freshly initialised, a `migrated` one
 * just migrated, nothing else written), and removes dumps of other PGlite versions and all but
 * the newest migrated ones. Throws when the cache cannot be written.
 */
export async function savePgliteTemplate(pglite: PGlite, template: PgliteTemplateKind, cacheDir = pgliteCacheDir()): Promise<void> {
  if (cacheDir === undefined) return;
  const file = join(cacheDir, templateName(template));
  const dump = await pglite.dumpDataDir('gzip');
  await mkdir(cacheDir, { recursive: true });
  const temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temporary, Buffer.from(await dump.arrayBuffer()));
  await rename(temporary, file);
  await pruneTemplates(cacheDir);
}

async function pruneTemplates(cacheDir: string): Promise<void> {
  const current = `${PREFIX}${pgliteVersion()}-`;
  const migrated: { name: string; mtime: number }[] = [];
  for (const name of await readdir(cacheDir)) {
    if (!name.startsWith(PREFIX) || name.endsWith('.tmp')) continue;
    if (!name.startsWith(current)) await rm(join(cacheDir, name), { force: true });
    else if (name.startsWith(`${current}migrated-`)) migrated.push({ name, mtime: (await stat(join(cacheDir, name))).mtimeMs });
  }
  migrated.sort((a, b) => b.mtime - a.mtime);
  for (const { name } of migrated.slice(MIGRATED_KEPT)) await rm(join(cacheDir, name), { force: true });
}
