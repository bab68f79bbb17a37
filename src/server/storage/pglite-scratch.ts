/**
 * The scratch directory of a `memory://` database: private, removed when the storage closes,
 * and removed by the next `memory://` opened on the machine when its process died first.
 * It goes to `/dev/shm` (tmpfs: the data stays in memory, as the URL says, and creating the
 * ~1,000 files of a database costs ~0.2 s there against ~1.3 s on this machine's ext4) when
 * that has room, else to the system's temporary directory.
 */
import { mkdtemp, readdir, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Name prefix of scratch directories, followed by the owner's process id and `-`. */
const PREFIX = 'fusion-memory-';
const SHM = '/dev/shm';
/** Free space `/dev/shm` needs to be used (a database takes ~40 MB and grows; containers often give it 64 MB). */
const SHM_MIN_FREE = 512 * 1024 * 1024;

/** A scratch directory and how to remove it. */
export interface ScratchDir {
  readonly dir: string;
  remove(): Promise<void>;
}

/** Receives what the sweep removed (a pino logger fits). */
export interface ScratchLogger {
  debug(message: string): void;
}

async function shmHasRoom(): Promise<boolean> {
  try {
    const stats = await statfs(SHM);
    return stats.bavail * stats.bsize >= SHM_MIN_FREE;
  } catch {
    return false;
  }
}

/** Creates a new scratch directory, after sweeping those of dead processes. */
export async function createScratchDir(logger: ScratchLogger): Promise<ScratchDir> {
  const roots = [...new Set([SHM, tmpdir()])];
  for (const root of roots) await sweep(root, logger);
  const root = (await shmHasRoom()) ? SHM : tmpdir();
  let dir: string;
  try {
    dir = await mkdtemp(join(root, `${PREFIX}${process.pid}-`));
  } catch (error) {
    if (root === tmpdir()) throw error;
    dir = await mkdtemp(join(tmpdir(), `${PREFIX}${process.pid}-`));
  }
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

async function sweep(root: string, logger: ScratchLogger): Promise<void> {
  const names = await readdir(root).catch(() => [] as string[]);
  for (const name of names) {
    const pid = Number(new RegExp(`^${PREFIX}(\\d+)-`).exec(name)?.[1]);
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || processAlive(pid)) continue;
    logger.debug(`removing the memory:// directory ${join(root, name)} left by process ${pid}`);
    await rm(join(root, name), { recursive: true, force: true }).catch(() => undefined);
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
