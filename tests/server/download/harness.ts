/** Test harness for downloads: a real FusionServer with the download API on 127.0.0.1:0, and temp files. */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { FusionDownloadAPI } from '../../../src/server/download/impl.js';
import type { FusionDownloadAPIOptions } from '../../../src/server/download/impl.js';
import { parseConfig } from '../../../src/server/config.js';
import { FusionServer } from '../../../src/server/server.js';
import type { FusionStorage } from '../../../src/server/storage/storage.js';

/** A running server with the download API. */
export interface DownloadServer {
  server: FusionServer;
  api: FusionDownloadAPI;
  baseUrl: string;
  stop(): Promise<void>;
}

/** Starts a FusionServer on `storage` with a FusionDownloadAPI (options and an optional `download` section). */
export async function startDownloadServer(
  storage: FusionStorage,
  options: { api?: FusionDownloadAPIOptions; section?: Record<string, unknown> } = {},
): Promise<DownloadServer> {
  const config = parseConfig({ server: { log_level: 'silent', docs: false }, ...(options.section ? { download: options.section } : {}) });
  const api = new FusionDownloadAPI(options.api);
  const server = new FusionServer({ config, storage, apis: [api] });
  const baseUrl = await server.listen({ host: '127.0.0.1', port: 0 });
  return { server, api, baseUrl, stop: () => server.close() };
}

/** A new temporary directory (remove it with `rm(dir, { recursive: true, force: true })`). */
export function tempDir(prefix = 'fusion-download-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Writes `size` random bytes to `path` and returns them. */
export async function randomFile(path: string, size: number): Promise<Buffer> {
  const data = randomBytes(size);
  await writeFile(path, data);
  return data;
}

/** A small tree: `a.txt`, `sub/b.bin` (random), `sub/deeper/c.txt`, and an empty directory `empty/`. */
export async function makeTree(root: string): Promise<void> {
  await mkdir(join(root, 'sub', 'deeper'), { recursive: true });
  await mkdir(join(root, 'empty'));
  await writeFile(join(root, 'a.txt'), 'hello\n');
  await writeFile(join(root, 'sub', 'b.bin'), randomBytes(100_000));
  await writeFile(join(root, 'sub', 'deeper', 'c.txt'), 'été ✓\n');
}

/** Every path under `root` (directories with a trailing '/') mapped to its content (files) or ''. */
export async function readTree(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      const name = relative(root, path).split('\\').join('/');
      if (entry.isDirectory()) {
        out[`${name}/`] = '';
        await walk(path);
      } else {
        out[name] = (await readFile(path)).toString('base64');
      }
    }
  };
  if ((await stat(root)).isDirectory()) await walk(root);
  return out;
}

/** Removes `paths` (recursive, ignoring missing ones). */
export async function removeAll(...paths: (string | undefined)[]): Promise<void> {
  for (const path of paths) if (path) await rm(path, { recursive: true, force: true });
}
