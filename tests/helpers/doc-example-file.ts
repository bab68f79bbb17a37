/** Test support: a docs page shows, verbatim, the example file a test runs. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from '@jest/globals';

/** The code without its import lines (paths differ between docs and tests) and its leading one-line comment. */
function body(code: string): string {
  return code
    .split('\n')
    .filter((line) => !line.startsWith('import '))
    .join('\n')
    .replace(/^\/\*\*.*\*\/\n/, '')
    .trim();
}

/**
 * Asserts that `doc` (repo-relative, e.g. `docs/storage.md`) has a `<!-- example: FILE -->`
 * marker for `exampleFile` (repo-relative) followed by a ```ts block equal to that file.
 */
export async function expectDocShowsExampleFile(doc: string, exampleFile: string): Promise<void> {
  const text = await readFile(join(process.cwd(), doc), 'utf8');
  const start = text.indexOf(`<!-- example: ${exampleFile} -->`);
  expect([doc, exampleFile, start >= 0]).toEqual([doc, exampleFile, true]);
  const block = /```ts\n([\s\S]*?)```/.exec(text.slice(start));
  expect(block).not.toBeNull();
  expect(body(block![1]!)).toBe(body(await readFile(join(process.cwd(), exampleFile), 'utf8')));
}
