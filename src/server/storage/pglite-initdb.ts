/**
 * Builds the PGlite `initdb` dump in a child process (pglite-initdb-child.ts) when the cache
 * has none: the server then only extracts it, and its resident memory stays that of an
 * existing database instead of keeping initdb's garbage.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Longest wait for the child (initdb takes ~5 s of CPU; the machine may be loaded). */
const CHILD_TIMEOUT_MS = 300_000;

/** Receives why the child did not help (a pino logger fits). */
export interface InitdbLogger {
  debug(message: string): void;
}

/**
 * Runs the child to write the initdb dump into `cacheDir`; true when it exited 0. False, and
 * the caller runs initdb itself, when the child cannot run: from the TypeScript sources (no
 * built child script), or when it failed or timed out.
 */
export async function buildInitdbDumpInChild(cacheDir: string, liftoffOnly: boolean, logger: InitdbLogger): Promise<boolean> {
  const script = fileURLToPath(new URL('./pglite-initdb-child.js', import.meta.url));
  if (!existsSync(script)) return false;
  const child = spawn(process.execPath, [...(liftoffOnly ? ['--liftoff-only'] : []), script, cacheDir], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2_000)));
  const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
  try {
    const code = await new Promise<number | null>((resolve) => {
      child.once('error', () => resolve(null));
      child.once('exit', (exitCode) => resolve(exitCode));
    });
    if (code === 0) return true;
    logger.debug(`the PGlite initdb child failed (exit ${String(code)}): ${stderr.trim()}; running initdb in this process`);
    return false;
  } finally {
    clearTimeout(timer);
  }
}
