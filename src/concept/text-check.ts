/**
 * The characters no concept string may hold: NUL (PostgreSQL text and jsonb refuse it) and
 * unpaired UTF-16 surrogates (not Unicode: they cannot be encoded as UTF-8). Refused at decode
 * time, so the storage layer never sees them.
 */
import { FieldIssue } from './field-base.js';

// eslint-disable-next-line no-control-regex -- NUL is exactly what this looks for
const BAD_CHARACTER = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why `text` cannot be stored (`contains a NUL character (U+0000) at index 3`), or null when it can. */
export function badTextProblem(text: string): string | null {
  const found = BAD_CHARACTER.exec(text);
  if (found === null) return null;
  const code = found[0].charCodeAt(0);
  if (code === 0) return `contains a NUL character (U+0000) at index ${found.index}: not allowed`;
  const hex = code.toString(16).toUpperCase();
  return `contains an unpaired surrogate (U+${hex}) at index ${found.index}: not valid Unicode`;
}

/** Throws a FieldIssue when `text` holds NUL or an unpaired surrogate. */
export function checkText(text: string): void {
  const problem = badTextProblem(text);
  if (problem !== null) throw new FieldIssue(problem);
}

/** Throws a FieldIssue when the object key `key` holds NUL or an unpaired surrogate (the key is not echoed). */
export function checkKey(key: string): void {
  const problem = badTextProblem(key);
  if (problem !== null) throw new FieldIssue(`a key ${problem}`);
}
