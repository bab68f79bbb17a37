/**
 * Writes the package's bundle of PGlite dumps (pglite-bundled.ts): the initdb dump and the dump
 * after the framework's migrations (no schema: what `fusion serve` opens unless a service adds
 * migrations or a schema), made the way a first start makes them, then a manifest with their
 * hashes. Run by `scripts/pglite-templates.mjs` from the built dist/, in a process of its own.
 */
import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { FUSION_VERSION } from '../../helper/version.js';
import { FUSION_MIGRATIONS } from './migrations.js';
import { createPglite } from './pglite-create.js';
import type { PgliteCreateLogger } from './pglite-create.js';
import { BUNDLE_MANIFEST, readBundleManifest, sha256Hex } from './pglite-bundled.js';
import type { PgliteBundleManifest } from './pglite-bundled.js';
import { migratedTemplateKey, pgliteVersion, templateName } from './pglite-template.js';
import { openPgliteStorage } from './open-storage.js';

/** The file names a complete bundle for this framework, PGlite and migrations holds. */
export function expectedBundleFiles(): string[] {
  return [templateName({ kind: 'initdb' }), templateName({ kind: 'migrated', key: migratedTemplateKey(FUSION_MIGRATIONS, undefined) })];
}

/** True when `dir` already holds a bundle for this framework, PGlite and migrations, every dump matching its hash. */
export async function bundleIsCurrent(dir: string): Promise<boolean> {
  const manifest = await readBundleManifest(dir);
  if (manifest === undefined) return false;
  for (const file of expectedBundleFiles()) {
    const entry = manifest.dumps.find((dump) => dump.file === file);
    const bytes = await readFile(join(dir, file)).catch(() => undefined);
    if (entry === undefined || bytes === undefined || sha256Hex(bytes) !== entry.sha256) return false;
  }
  return true;
}

/**
 * Builds the bundle into `dir` (replaced as a whole: written next to it, then renamed), unless it
 * is current already; returns whether it built. Throws when a dump cannot be made.
 */
export async function buildPgliteBundle(dir: string, logger: PgliteCreateLogger): Promise<boolean> {
  if (await bundleIsCurrent(dir)) return false;
  const work = join(dirname(dir), `.pglite-templates-${randomBytes(6).toString('hex')}.tmp`);
  try {
    // A new memory:// database with an empty cache (work/) and no bundle: initdb runs (in its
    // child), its dump lands in work/, the migrations run, and their dump lands there too.
    const created = await createPglite(undefined, migratedTemplateKey(FUSION_MIGRATIONS, undefined), logger, { cacheDir: work, bundledDir: undefined });
    const storage = openPgliteStorage(created.pglite);
    try {
      await storage.migrate();
      await created.afterFirstMigration?.();
    } finally {
      await storage.close();
      await created.cleanup?.();
    }
    const dumps: { file: string; sha256: string }[] = [];
    const present = new Set(await readdir(work));
    for (const file of expectedBundleFiles()) {
      if (!present.has(file)) throw new Error(`the dump ${file} was not written`);
      dumps.push({ file, sha256: sha256Hex(await readFile(join(work, file))) });
    }
    for (const file of present) if (!dumps.some((dump) => dump.file === file)) await rm(join(work, file), { force: true });
    const manifest: PgliteBundleManifest = { format: 1, framework: FUSION_VERSION, pglite: pgliteVersion(), dumps };
    await writeFile(join(work, BUNDLE_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    await rm(dir, { recursive: true, force: true });
    await rename(work, dir);
    return true;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
