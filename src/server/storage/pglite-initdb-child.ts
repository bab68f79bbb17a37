/**
 * Writes the PGlite `initdb` dump into the cache directory given as its argument, then exits:
 * run in a child process by pglite-initdb.ts, so that initdb's second PGlite instance and its
 * garbage (a ~700 MB peak) never live in the server's process.
 */
import { PGlite } from '@electric-sql/pglite';
import { PGLITE_START_PARAMS } from './pglite-params.js';
import { savePgliteTemplate } from './pglite-template.js';

const cacheDir = process.argv[2];
if (!cacheDir) {
  process.stderr.write('usage: pglite-initdb-child CACHE_DIR\n');
  process.exit(2);
}
const pglite = new PGlite({ startParams: [...PGLITE_START_PARAMS] });
try {
  await pglite.waitReady;
  await savePgliteTemplate(pglite, { kind: 'initdb' }, cacheDir);
} finally {
  await pglite.close();
}
