/**
 * The login session `fusion login` keeps: one JSON file per user (mode 600, in a mode-700
 * directory), `$FUSION_SESSION_FILE`, else `$XDG_CONFIG_HOME/fusion/session.json`, else
 * `~/.config/fusion/session.json`.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { CliIO } from './cli-io.js';

/** What the session file holds. */
export interface StoredSession {
  /** The service URL the session belongs to. */
  url: string;
  /** Name of the session cookie. */
  cookieName: string;
  /** Value of the session cookie. */
  cookie: string;
  /** Who logged in. */
  username: string;
  /** When (ISO 8601). */
  created: string;
}

/** The session file's path for this environment. */
export function sessionFilePath(env: CliIO['env']): string {
  if (env.FUSION_SESSION_FILE) return env.FUSION_SESSION_FILE;
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'fusion', 'session.json');
}

function isSession(value: unknown): value is StoredSession {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return ['url', 'cookieName', 'cookie', 'username', 'created'].every((key) => typeof v[key] === 'string');
}

/** Reads the session, or null when there is none (a damaged file counts as none). */
export async function readSession(path: string): Promise<StoredSession | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  try {
    const value: unknown = JSON.parse(text);
    return isSession(value) ? value : null;
  } catch {
    return null;
  }
}

/** Writes the session atomically, readable by its owner only (file 600, new directory 700). */
export async function writeSession(path: string, session: StoredSession): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temporary, `${JSON.stringify(session, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    await chmod(temporary, 0o600); // a umask cannot widen it, but be explicit
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** Removes the session file; true when there was one. */
export async function removeSession(path: string): Promise<boolean> {
  try {
    await rm(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
