import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Case } from '../../../src/concept/index.js';
import { FUSION_VERSION } from '../../../src/helper/version.js';
import type { StorageLogger } from '../../../src/server/storage/open-storage.js';
import { openStorage } from '../../../src/server/storage/open-storage.js';
import { bundleIsCurrent, buildPgliteBundle, expectedBundleFiles } from '../../../src/server/storage/pglite-bundle-build.js';
import { BUNDLE_MANIFEST, pgliteBundledDir, readBundledTemplate } from '../../../src/server/storage/pglite-bundled.js';
import type { PgliteBundleManifest } from '../../../src/server/storage/pglite-bundled.js';

const SLOW_MS = 300_000;

/** A storage logger keeping its debug lines. */
function recordingLogger(): StorageLogger & { lines: string[] } {
  const lines: string[] = [];
  const keep = (message: string): void => void lines.push(message);
  return { lines, debug: keep, info: keep, warn: keep, error: keep } as StorageLogger & { lines: string[] };
}

describe('the PGlite dumps bundled with the package', () => {
  let tmp: string;
  let bundle: string;
  const saved = { cache: process.env.FUSION_PGLITE_CACHE, bundled: process.env.FUSION_PGLITE_BUNDLED };

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'fusion-pglite-bundled-'));
    bundle = join(tmp, 'bundle');
    // Built the way `npm install` builds it, from these sources (initdb then runs in this process).
    await expect(buildPgliteBundle(bundle, { debug: () => undefined, warn: () => undefined })).resolves.toBe(true);
  }, SLOW_MS);

  afterAll(async () => {
    for (const [name, value] of [
      ['FUSION_PGLITE_CACHE', saved.cache],
      ['FUSION_PGLITE_BUNDLED', saved.bundled],
    ] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await rm(tmp, { recursive: true, force: true });
  });

  /** Opens memory:// with `bundleDir` and an empty cache of its own, migrates, writes a case; returns the cache's files and the debug lines. */
  async function openWith(bundleDir: string, name: string): Promise<{ cached: string[]; lines: string[] }> {
    const cache = join(tmp, `cache-${name}`);
    process.env.FUSION_PGLITE_CACHE = cache;
    process.env.FUSION_PGLITE_BUNDLED = bundleDir;
    const logger = recordingLogger();
    const storage = await openStorage('memory://', { logger });
    try {
      await storage.migrate();
      await storage.createCase(new Case({ name: 'after the bundle', acs: ['soc'] }));
      expect((await storage.knex('fusion_case').select('name')).map((row: { name: string }) => row.name)).toEqual(['after the bundle']);
    } finally {
      await storage.close();
    }
    return { cached: (await readdir(cache).catch(() => [])).sort(), lines: logger.lines };
  }

  it('holds the initdb and migrated dumps and a manifest of their versions and hashes, and is then current', async () => {
    const manifest = JSON.parse(await readFile(join(bundle, BUNDLE_MANIFEST), 'utf8')) as PgliteBundleManifest;
    expect(manifest).toMatchObject({ format: 1, framework: FUSION_VERSION });
    expect(manifest.dumps.map((dump) => dump.file).sort()).toEqual(expectedBundleFiles().sort());
    expect((await readdir(bundle)).sort()).toEqual([BUNDLE_MANIFEST, ...expectedBundleFiles()].sort());
    await expect(bundleIsCurrent(bundle)).resolves.toBe(true);
    await expect(buildPgliteBundle(bundle, { debug: () => undefined, warn: () => undefined })).resolves.toBe(false);
  });

  it(
    'starts a new memory:// database from the bundled migrated dump, writing nothing to the user cache',
    async () => {
      const { cached, lines } = await openWith(bundle, 'used');
      expect(cached).toEqual([]);
      expect(lines).toContain('started PGlite from the bundled migrated dump');
    },
    SLOW_MS,
  );

  it(
    'ignores a bundle of another framework version, and the user cache serves instead',
    async () => {
      const stale = join(tmp, 'stale');
      await cp(bundle, stale, { recursive: true });
      const manifest = JSON.parse(await readFile(join(stale, BUNDLE_MANIFEST), 'utf8')) as PgliteBundleManifest;
      await writeFile(join(stale, BUNDLE_MANIFEST), JSON.stringify({ ...manifest, framework: `${FUSION_VERSION}-older` }));
      await expect(bundleIsCurrent(stale)).resolves.toBe(false);
      const reasons: string[] = [];
      await expect(readBundledTemplate({ kind: 'initdb' }, stale, (reason) => reasons.push(reason))).resolves.toBeUndefined();
      expect(reasons).toEqual([expect.stringContaining('no bundled PGlite dumps for fusion-framework')]);
      const { cached, lines } = await openWith(stale, 'stale');
      expect(lines).not.toContain('started PGlite from the bundled migrated dump');
      expect(cached).toEqual(expectedBundleFiles().sort());
    },
    SLOW_MS,
  );

  it(
    "ignores a dump whose bytes do not match the manifest's hash, and uses the rest of the bundle",
    async () => {
      const damaged = join(tmp, 'damaged');
      await cp(bundle, damaged, { recursive: true });
      const [initdb, migrated] = expectedBundleFiles();
      const bytes = await readFile(join(damaged, migrated!));
      bytes[bytes.length - 100] ^= 0xff;
      await writeFile(join(damaged, migrated!), bytes);
      await expect(bundleIsCurrent(damaged)).resolves.toBe(false);
      await expect(readBundledTemplate({ kind: 'initdb' }, damaged)).resolves.toBeInstanceOf(Buffer);
      const { cached, lines } = await openWith(damaged, 'damaged');
      expect(lines).toContain(`the bundled PGlite dump ${migrated!} does not match its manifest's sha256: ignored`);
      expect(lines).toContain('started PGlite from the bundled initdb dump');
      // The initdb dump came from the bundle; the migrated one was made and cached.
      expect(cached).toEqual([migrated!]);
      expect(cached).not.toContain(initdb);
    },
    SLOW_MS,
  );

  it('finds its directory next to the package (src/ or dist/), or from FUSION_PGLITE_BUNDLED', () => {
    expect(pgliteBundledDir({})).toMatch(/[/\\]pglite-templates[/\\]$/);
    expect(pgliteBundledDir({ FUSION_PGLITE_BUNDLED: '/srv/dumps' })).toBe('/srv/dumps');
    expect(pgliteBundledDir({ FUSION_PGLITE_BUNDLED: 'off' })).toBeUndefined();
  });
});
