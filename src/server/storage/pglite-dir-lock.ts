/**
 * Keeps a `pglite://DIR` database to one opener. PGlite itself lets two instances open the
 * same directory and then silently diverge (the data is lost or corrupted), so openStorage
 * takes a lock first: the directory `DIR.lock` (proper-lockfile), refreshed every 5 s and
 * considered stale 10 s after its holder died.
 */
import { mkdir } from 'node:fs/promises';
import lockfile from 'proper-lockfile';
import { FusionError } from '../../helper/errors.js';

const STALE_MS = 10_000;

/** Creates `dir` if needed and locks it; resolves to the release function. */
export async function lockPgliteDir(
  dir: string,
  options: { waitMs?: number; onCompromised?: (error: Error) => void } = {},
): Promise<() => Promise<void>> {
  await mkdir(dir, { recursive: true });
  const waitMs = Math.max(0, options.waitMs ?? STALE_MS + 2_000);
  const retries = Math.ceil(waitMs / 500);
  try {
    return await lockfile.lock(dir, {
      stale: STALE_MS,
      retries: retries === 0 ? 0 : { retries, factor: 1, minTimeout: 500, maxTimeout: 500 },
      onCompromised: options.onCompromised ?? (() => undefined),
    });
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ELOCKED') {
      throw new FusionError(
        'FUSION_ERR_STORAGE',
        `pglite://${dir} is in use by another storage (lock ${dir}.lock): a PGlite database serves one process; stop the other one, or use postgres:// to run several instances`,
        { cause: error },
      );
    }
    throw new FusionError('FUSION_ERR_STORAGE', `cannot lock pglite://${dir}: ${(error as Error).message}`, { cause: error });
  }
}
