/**
 * Creates the PGlite instance behind `memory://` and `pglite://DIR`: a new database starts
 * from a cached dump (pglite-template.ts), extracted onto the disk for a new directory
 * (pglite-untar.ts), and writes the dumps missing; every instance runs with small shared buffers.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { PGliteOptions } from '@electric-sql/pglite';
import { dropPgliteTemplate, pgliteCacheDir, readPgliteTemplate, savePgliteTemplate } from './pglite-template.js';
import type { PgliteTemplateKind } from './pglite-template.js';
import { extractPgliteDump } from './pglite-untar.js';

/**
 * PGlite's start parameters with 16 MB of shared buffers instead of PostgreSQL's 128 MB: the
 * buffers live in the WebAssembly memory and are zeroed at every start (measured: ~1.9 s of
 * CPU and ~100 MB resident for 128 MB), while an embedded database's working set is small.
 */
export const PGLITE_START_PARAMS: readonly string[] = [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'];

/** Receives what happened to the template (a pino logger fits). */
export interface PgliteCreateLogger {
  debug(message: string): void;
  warn(message: string): void;
}

async function start(options: PGliteOptions): Promise<PGlite> {
  const pglite = new PGlite({ ...options, startParams: [...PGLITE_START_PARAMS] });
  try {
    await pglite.waitReady;
  } catch (error) {
    if (!pglite.closed) await pglite.close().catch(() => undefined);
    throw error;
  }
  return pglite;
}

/** A PGlite instance createPglite opened, and what to do once the storage migrated it. */
export interface CreatedPglite {
  readonly pglite: PGlite;
  /** Set when the database is new and did not come from the migrated dump: call it right after the first migration, to save that dump. */
  readonly afterFirstMigration?: () => Promise<void>;
}

/**
 * Opens the PGlite database in `dir` (in memory when undefined), ready to query. A new one is
 * loaded from the dump of the same migrations when cached, else from the initdb dump, else
 * initdb runs (and its result is saved for the next ones). `migratedKey` is
 * migratedTemplateKey() of the storage; `cacheDir` defaults to pgliteCacheDir().
 */
export async function createPglite(
  dir: string | undefined,
  migratedKey: string,
  logger: PgliteCreateLogger,
  cacheDir = pgliteCacheDir(),
): Promise<CreatedPglite> {
  if (dir !== undefined && existsSync(join(dir, 'PG_VERSION'))) return { pglite: await start({ dataDir: dir }) };
  const wasEmpty = dir === undefined || (await readdir(dir).catch(() => [])).length === 0;
  const migrated: PgliteTemplateKind = { kind: 'migrated', key: migratedKey };
  const save = (pglite: PGlite, template: PgliteTemplateKind) => async (): Promise<void> => {
    try {
      await savePgliteTemplate(pglite, template, cacheDir);
      logger.debug(`saved the PGlite ${template.kind} dump in ${cacheDir ?? '(no cache directory)'}`);
    } catch (error) {
      logger.debug(`cannot save the PGlite ${template.kind} dump in ${cacheDir ?? '(no cache directory)'}: ${(error as Error).message}`);
    }
  };
  for (const template of [migrated, { kind: 'initdb' } as const]) {
    const dump = await readPgliteTemplate(template, cacheDir);
    if (dump === undefined) continue;
    try {
      // An empty directory gets the files on disk first: PGlite then starts as on an existing one.
      if (dir !== undefined && wasEmpty) await extractPgliteDump(dump, dir);
      const pglite = await start(dir === undefined ? { loadDataDir: dump } : wasEmpty ? { dataDir: dir } : { dataDir: dir, loadDataDir: dump });
      return template.kind === 'migrated' ? { pglite } : { pglite, afterFirstMigration: save(pglite, migrated) };
    } catch (error) {
      // A damaged or foreign dump: forget it and try the next way, on a clean directory.
      logger.warn(`the cached PGlite ${template.kind} dump did not load (${(error as Error).message}): trying without it`);
      await dropPgliteTemplate(template, cacheDir).catch(() => undefined);
      if (dir !== undefined) {
        if (!wasEmpty) throw error;
        await rm(dir, { recursive: true, force: true });
        await mkdir(dir, { recursive: true });
      }
    }
  }
  const pglite = await start(dir === undefined ? {} : { dataDir: dir });
  await save(pglite, { kind: 'initdb' })();
  return { pglite, afterFirstMigration: save(pglite, migrated) };
}
