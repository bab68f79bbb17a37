/** Writes a new service into a directory (see templates.ts for the files). */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { hashPassword } from '../../server/auth/backend/password.js';
import { PASSWORD_FILE, apiModule, caseModule, configYaml, gitignore, packageJson, readme, rpcModule, serviceModule, serviceTest, taskModule } from './templates.js';

/** Options of scaffoldService. */
export interface ScaffoldOptions {
  /** The fusion-framework dependency spec written to package.json. */
  framework: string;
  /** npm package name (default: made from the directory name). */
  name?: string;
  /** Username of the first user (default `admin`). */
  username?: string;
}

/** What scaffoldService wrote. */
export interface ScaffoldResult {
  /** The service's directory (absolute). */
  directory: string;
  /** The files written, relative to it. */
  files: string[];
  /** The first user's password (also in `.fusion-password`). */
  password: string;
  /** The first user's name. */
  username: string;
}

/** A directory name made into an npm package name (lowercase, `-` for anything else). */
export function packageNameFor(directory: string): string {
  const name = basename(resolve(directory)).toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[._-]+|[-]+$/g, '');
  return name === '' ? 'fusion-service' : name.slice(0, 214);
}

/** Thrown when the target directory holds files already. */
export class ScaffoldExistsError extends Error {
  override readonly name = 'ScaffoldExistsError';
}

/** Writes the service into `directory` (created; it must be empty if it exists). */
export async function scaffoldService(directory: string, options: ScaffoldOptions): Promise<ScaffoldResult> {
  const target = resolve(directory);
  const existing = await readdir(target).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  if (existing.length > 0) throw new ScaffoldExistsError(`${target} is not empty: choose a new directory`);
  const username = options.username ?? 'admin';
  const password = randomBytes(12).toString('base64url');
  const values = { name: options.name ?? packageNameFor(target), framework: options.framework, username, digest: await hashPassword(password) };
  const files: Record<string, string> = {
    'package.json': packageJson(values),
    'config.yaml': configYaml(values),
    'src/service.js': serviceModule(),
    'src/ticket-case.js': caseModule(),
    'src/hello-api.js': apiModule(),
    'src/ticket-rpc.js': rpcModule(),
    'src/stale-tickets.js': taskModule(),
    'test/service.test.js': serviceTest(),
    'README.md': readme(values),
    '.gitignore': gitignore(),
    [PASSWORD_FILE]: `${password}\n`,
  };
  for (const [path, text] of Object.entries(files)) {
    const file = join(target, path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, text, { flag: 'wx', ...(path === PASSWORD_FILE ? { mode: 0o600 } : {}) });
  }
  await chmod(join(target, PASSWORD_FILE), 0o600);
  return { directory: target, files: Object.keys(files), password, username };
}
