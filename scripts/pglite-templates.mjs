// Writes pglite-templates/ (the PGlite dumps a first embedded start extracts instead of running
// initdb and the migrations: src/server/storage/pglite-bundled.ts) from the built dist/.
// Run by `prepare` (npm install / npm ci in a clone) and `prepack` (so the tarball holds it).
// Never fails the install: when the dumps cannot be made it warns, and the first start makes
// them in the user cache instead (slower). FUSION_PGLITE_BUNDLED=off skips it.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const TIMEOUT_MS = 300_000;
const root = fileURLToPath(new URL('..', import.meta.url));
const dir = fileURLToPath(new URL('../pglite-templates', import.meta.url));
const builder = new URL('../dist/server/storage/pglite-bundle-build.js', import.meta.url);

function warn(reason) {
  console.warn(`fusion-framework: no bundled PGlite dumps (${reason}); the first memory:// or new pglite:// start will make them in the user cache (a few seconds)`);
}

if (process.env.FUSION_PGLITE_BUNDLED === 'off') {
  process.exit(0);
}
if (!existsSync(fileURLToPath(builder))) {
  warn(`${fileURLToPath(builder)} is missing: build first`);
  process.exit(0);
}
const timer = setTimeout(() => {
  warn(`not done after ${TIMEOUT_MS / 1000} s`);
  process.exit(0);
}, TIMEOUT_MS);
timer.unref();
try {
  const started = Date.now();
  const { buildPgliteBundle } = await import(builder.href);
  const logger = { debug: () => undefined, warn: (message) => console.warn(`fusion-framework: ${message}`) };
  if (await buildPgliteBundle(dir, logger)) {
    console.error(`fusion-framework: PGlite dumps written to ${dir.slice(root.length)} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
} catch (error) {
  warn(error instanceof Error ? error.message : String(error));
}
clearTimeout(timer);
process.exit(0);
