/**
 * Creates the PGlite instance behind `memory://` and `pglite://DIR`: a new database is
 * extracted from a cached dump (pglite-template.ts) and writes the dumps missing; every
 * instance runs on a directory (NODEFS) with small shared buffers.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
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

/** Name prefix of `memory://` scratch directories, followed by the owner's process id and `-`. */
const SCRATCH_PREFIX = 'fusion-memory-';

/** Receives what happened to the template (a pino logger fits). */
export interface PgliteCreateLogger {
  debug(message: string): void;
  warn(message: string): void;
}

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
  if (process.env.FUSION_PGLITE_LIFTOFF !== '0') v8.setFlagsFromString('--liftoff-only');
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

/**
 * Opens the PGlite database in `dir` (`memory://` when undefined), ready to query. A new one is
 * extracted from the dump of the same migrations when cached, else from the initdb dump, else
 * initdb runs (and its result is saved for the next ones). `migratedKey` is
 * migratedTemplateKey() of the storage; `cacheDir` defaults to pgliteCacheDir().
 *
 * `memory://` is a database in a private scratch directory under the system's temporary
 * directory, removed by `cleanup` (and, after a crash, by the next `memory://` opened on the
 * machine): PGlite's in-memory file system would keep the data directory (~40 MB, most of it
 * the preallocated WAL segment) and the untarred dump's garbage resident, ~130 MB more
 * (measured, docs/performance.md), while the operating system caches a small directory anyway.
 */
export async function createPglite(
  dir: string | undefined,
  migratedKey: string,
  logger: PgliteCreateLogger,
  cacheDir = pgliteCacheDir(),
): Promise<CreatedPglite> {
  if (dir !== undefined) return createInDir(dir, migratedKey, logger, cacheDir);
  await sweepScratchDirs(logger);
  const scratch = await mkdtemp(join(tmpdir(), `${SCRATCH_PREFIX}${process.pid}-`));
  const cleanup = (): Promise<void> => rm(scratch, { recursive: true, force: true });
  try {
    return { ...(await createInDir(scratch, migratedKey, logger, cacheDir)), cleanup };
  } catch (error) {
    await cleanup().catch(() => undefined);
    throw error;
  }
}

/** Removes scratch directories whose process is gone (a crash, a kill -9). */
async function sweepScratchDirs(logger: PgliteCreateLogger): Promise<void> {
  const names = await readdir(tmpdir()).catch(() => [] as string[]);
  for (const name of names) {
    const pid = Number(new RegExp(`^${SCRATCH_PREFIX}(\\d+)-`).exec(name)?.[1]);
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || processAlive(pid)) continue;
    logger.debug(`removing the memory:// directory ${name} left by process ${pid}`);
    await rm(join(tmpdir(), name), { recursive: true, force: true }).catch(() => undefined);
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function createInDir(dir: string, migratedKey: string, logger: PgliteCreateLogger, cacheDir: string | undefined): Promise<CreatedPglite> {
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
    const dump = await readPgliteTemplate(template, cacheDir);
    if (dump === undefined) continue;
    try {
      await extractPgliteDump(dump, dir);
      const pglite = await start({ dataDir: dir });
      return template.kind === 'migrated' ? { pglite } : { pglite, afterFirstMigration: save(pglite, migrated) };
    } catch (error) {
      // A damaged or foreign dump: forget it and try the next way, on a clean directory.
      logger.warn(`the cached PGlite ${template.kind} dump did not load (${(error as Error).message}): trying without it`);
      await dropPgliteTemplate(template, cacheDir).catch(() => undefined);
      if (!wasEmpty) throw error;
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
    }
  }
  const pglite = await start({ dataDir: dir });
  await save(pglite, { kind: 'initdb' })();
  return { pglite, afterFirstMigration: save(pglite, migrated) };
}
