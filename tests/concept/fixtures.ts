/** Loads the edf_fusion sample documents from tests/fixtures/edf_fusion. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'edf_fusion');

/** Returns a fresh parse of `tests/fixtures/edf_fusion/<name>.json`. */
export function edfFixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as Record<string, unknown>;
}
