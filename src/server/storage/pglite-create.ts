/**
 * Creates the PGlite instance behind `memory://` and `pglite://DIR`: a new database is
 * extracted from a bundled (pglite-bundled.ts) or cached (pglite-template.ts) dump and writes
 * the dumps missing to the cache; every instance runs on a directory (NODEFS) with small
 * shared buffers.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import v8 from 'node:v8';
import { PGlite } from '@electric-sql/pglite';
import type { PGliteOptions } from '@electric-sql/pglite';
import { PGLITE_START_PARAMS } from './pglite-params.js';
import { pgliteBundledDir, readBundledTemplate } from './pglite-bundled.js';
import { dropPgliteTemplate, pgliteCacheDir, readPgliteTemplate, savePgliteTemplate } from './pglite-template.js';
import type { PgliteTemplateKind } from './pglite-template.js';
import { buildInitdbDumpInChild } from './pglite-initdb.js';
import { createScratchDir } from './pglite-scratch.js';
import { extractPgliteDump } from './pglite-untar.js';

/** Receives what happened to the template (a pino logger fits). */
export interface PgliteCreateLogger {
  debug(message: string): void;
  warn(message: string): void;
}

export { PGLITE_START_PARAMS } from './pglite-params.js';

let liftoffChosen = false;

/**
 * Compiles WebAssembly with V8's baseline compiler only (Liftoff), before the first PGlite
 * instance, unless `FUSION_PGLITE_LIFTOFF=0`. V8's optimizing tier recompiles PostgreSQL's hot
 * functions during the start (measured: ~550 ms of CPU and ~50 MB resident more for a `fusion
 * serve` on an existing directory) and gains ~3% on queries once warm (docs/performance.md).
 * The flag is process-wide: WebAssembly compiled later in the process is baseline-only too.
 */
function chooseLiftoff(): void {
  if (liftoffChosen) return;
  liftoffChosen = true;
  if (liftoffOnly()) v8.setFlagsFromString('--liftoff-only');
}

function liftoffOnly(): boolean {
  return process.env.FUSION_PGLITE_LIFTOFF !== '0';
}

async function start(options: PGliteOptions): Promise<PGlite> {
  chooseLiftoff();
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
  /** Set for `memory://`: removes its scratch directory; call it after closing the instance. */
  readonly cleanup?: () => Promise<void>;
}

/** Where createPglite looks for dumps: the user cache (also written) and the package's bundle (read only). */
export interface PgliteDumpPlaces {
  readonly cacheDir: string | undefined;
  readonly bundledDir: string | undefined;
}

/**
 * Opens the PGlite database in `dir` (`memory://` when undefined), ready to query. A new one is
 * extracted from the dump of the same migrations, else from the initdb dump, each looked for
 * in the package's bundle (pglite-bundled.ts) first, then in the user cache; when neither has
 * an initdb dump, initdb runs (and its result is saved in the cache for the next ones).
 * `migratedKey` is migratedTemplateKey() of the storage; `where` defaults to pgliteCacheDir()
 * and pgliteBundledDir() (undefined in it: no cache, no bundle).
 *
 * `memory://` is a database in a private scratch directory (pglite-scratch.ts, tmpfs when
 * there is one), removed by `cleanup`: in PGlite's in-memory file system the data directory
 * (~40 MB) and the untarred dump's garbage stayed in the process, ~130 MB more resident
 * (measured, docs/performance.md).
 */
export async function createPglite(
  dir: string | undefined,
  migratedKey: string,
  logger: PgliteCreateLogger,
  where: PgliteDumpPlaces = { cacheDir: pgliteCacheDir(), bundledDir: pgliteBundledDir() },
): Promise<CreatedPglite> {
  if (dir !== undefined) return createInDir(dir, migratedKey, logger, where);
  const scratch = await createScratchDir(logger);
  const cleanup = (): Promise<void> => scratch.remove();
  try {
    return { ...(await createInDir(scratch.dir, migratedKey, logger, where)), cleanup };
  } catch (error) {
    await cleanup().catch(() => undefined);
    throw error;
  }
}

async function createInDir(
  dir: string,
  migratedKey: string,
  logger: PgliteCreateLogger,
  { cacheDir, bundledDir }: PgliteDumpPlaces,
): Promise<CreatedPglite> {
  if (existsSync(join(dir, 'PG_VERSION'))) return { pglite: await start({ dataDir: dir }) };
  const wasEmpty = (await readdir(dir).catch(() => [])).length === 0;
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
    for (const source of ['bundled', 'cache'] as const) {
      let dump: Buffer | undefined;
      if (source === 'bundled') {
        dump = await readBundledTemplate(template, bundledDir, (reason) => logger.debug(reason));
      } else {
        dump = await readPgliteTemplate(template, cacheDir);
        if (dump === undefined && template.kind === 'initdb' && cacheDir !== undefined && (await buildInitdbDumpInChild(cacheDir, liftoffOnly(), logger))) {
          dump = await readPgliteTemplate(template, cacheDir);
        }
      }
      if (dump === undefined) continue;
      try {
        await extractPgliteDump(dump, dir);
        const pglite = await start({ dataDir: dir });
        logger.debug(`started PGlite from the ${source === 'bundled' ? 'bundled' : 'cached'} ${template.kind} dump`);
        return template.kind === 'migrated' ? { pglite } : { pglite, afterFirstMigration: save(pglite, migrated) };
      } catch (error) {
        // A damaged or foreign dump: forget it (the bundle is read-only) and try the next way, on a clean directory.
        logger.warn(`the ${source === 'bundled' ? 'bundled' : 'cached'} PGlite ${template.kind} dump did not load (${(error as Error).message}): trying without it`);
        if (source === 'cache') await dropPgliteTemplate(template, cacheDir).catch(() => undefined);
        if (!wasEmpty) throw error;
        await rm(dir, { recursive: true, force: true });
        await mkdir(dir, { recursive: true });
      }
    }
  }
  const pglite = await start({ dataDir: dir });
  await save(pglite, { kind: 'initdb' })();
  return { pglite, afterFirstMigration: save(pglite, migrated) };
}
