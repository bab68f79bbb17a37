/** Test support: checks that the example a test runs is the one docs/helpers.md shows. */
import { expect } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The lines between `// --- example starts` and `// --- example ends` in `testFile`, dedented. */
export function exampleIn(testFile: string): string {
  const lines = readFileSync(join(process.cwd(), testFile), 'utf8').split('\n');
  const start = lines.findIndex((line) => line.trim() === '// --- example starts');
  const end = lines.findIndex((line, i) => i > start && line.trim() === '// --- example ends');
  if (start < 0 || end < 0) throw new Error(`${testFile}: no "// --- example starts/ends" markers`);
  const body = lines.slice(start + 1, end);
  const indent = Math.min(...body.filter((l) => l.trim()).map((l) => l.length - l.trimStart().length));
  return body.map((line) => line.slice(indent)).join('\n');
}

/** Asserts that section `## <section>` of docs/helpers.md shows the example of `testFile` verbatim. */
export function expectDocumentedExample(testFile: string, section: string): void {
  const docs = readFileSync(join(process.cwd(), 'docs', 'helpers.md'), 'utf8');
  const start = docs.indexOf(`\n## ${section}\n`);
  expect(start).toBeGreaterThanOrEqual(0);
  const next = docs.indexOf('\n## ', start + 1);
  expect(docs.slice(start, next < 0 ? undefined : next)).toContain(exampleIn(testFile));
}
