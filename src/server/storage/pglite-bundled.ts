/**
 * PGlite dumps shipped with the package, in `pglite-templates/` at its root: written by
 * `scripts/pglite-templates.mjs` (run by `prepare` after the build on `npm install` in a clone,
 * and by `prepack`, so the packed package holds them). A new `memory://` or `pglite://DIR`
 * database is extracted from them before the user cache (pglite-template.ts) is tried, so the
 * first start on a machine skips initdb and the migrations.
 *
 * `manifest.json` names the framework and PGlite versions they were made with and the sha256
 * of each dump; a dump is used only when both versions match the running ones and its bytes
 * hash to the manifest's value (the file name itself names the PGlite version and, for a
 * migrated dump, the key of its migrations). Anything else is a stale or damaged bundle: it
 * is ignored and the user cache serves. `FUSION_PGLITE_BUNDLED=off` disables the bundle, a
 * path replaces its directory.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FUSION_VERSION } from '../../helper/version.js';
import { pgliteVersion, templateName } from './pglite-template.js';
import type { PgliteTemplateKind } from './pglite-template.js';

/** The manifest's file name in the bundle directory. */
export const BUNDLE_MANIFEST = 'manifest.json';

/** What `manifest.json` holds. */
export interface PgliteBundleManifest {
  readonly format: 1;
  /** fusion-framework's version when the dumps were made. */
  readonly framework: string;
  /** PGlite's version when the dumps were made. */
  readonly pglite: string;
  /** Each dump's file name (as templateName() gives it) and the sha256 of its bytes, in hex. */
  readonly dumps: readonly { readonly file: string; readonly sha256: string }[];
}

/** The bundle's directory (same relative place from src/ and dist/), or undefined when `FUSION_PGLITE_BUNDLED=off`. */
export function pgliteBundledDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.FUSION_PGLITE_BUNDLED === 'off') return undefined;
  if (env.FUSION_PGLITE_BUNDLED) return env.FUSION_PGLITE_BUNDLED;
  return fileURLToPath(new URL('../../../pglite-templates/', import.meta.url));
}

/** The sha256 of `bytes`, in hex. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Reads the manifest of `dir`; undefined when missing, unreadable or of other versions than the running ones. */
export async function readBundleManifest(dir: string): Promise<PgliteBundleManifest | undefined> {
  let manifest: Partial<PgliteBundleManifest>;
  try {
    manifest = JSON.parse(await readFile(join(dir, BUNDLE_MANIFEST), 'utf8')) as Partial<PgliteBundleManifest>;
  } catch {
    return undefined;
  }
  if (manifest.format !== 1 || manifest.framework !== FUSION_VERSION || manifest.pglite !== pgliteVersion() || !Array.isArray(manifest.dumps)) return undefined;
  return manifest as PgliteBundleManifest;
}

/**
 * The dump of `template` in the bundle `dir` (pgliteBundledDir(); undefined: none), or undefined (with the reason given to `why`) when the bundle
 * is disabled, missing, of other versions, has no such dump, or the dump's hash does not match.
 */
export async function readBundledTemplate(
  template: PgliteTemplateKind,
  dir: string | undefined,
  why: (reason: string) => void = () => undefined,
): Promise<Buffer | undefined> {
  if (dir === undefined) return undefined;
  const manifest = await readBundleManifest(dir);
  if (manifest === undefined) {
    why(`no bundled PGlite dumps for fusion-framework ${FUSION_VERSION} and PGlite ${pgliteVersion()} in ${dir}`);
    return undefined;
  }
  const file = templateName(template);
  const entry = manifest.dumps.find((dump) => dump.file === file);
  if (entry === undefined) {
    why(`no bundled PGlite dump ${file}`);
    return undefined;
  }
  let dump: Buffer;
  try {
    dump = await readFile(join(dir, file));
  } catch (error) {
    why(`cannot read the bundled PGlite dump ${file}: ${(error as Error).message}`);
    return undefined;
  }
  if (sha256Hex(dump) !== entry.sha256) {
    why(`the bundled PGlite dump ${file} does not match its manifest's sha256: ignored`);
    return undefined;
  }
  return dump;
}
