import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { FUSION_ERRORS, FusionError, isFusionError } from '../../src/helper/errors.js';

function documentedRows(): Map<string, { status: number; hint: string }> {
  const text = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const rows = new Map<string, { status: number; hint: string }>();
  for (const match of text.matchAll(/^\| `(FUSION_ERR_[A-Z_]+)` \| (\d{3}) \| (.*) \|$/gm)) {
    rows.set(match[1]!, { status: Number(match[2]), hint: match[3]! });
  }
  return rows;
}

describe('error codes', () => {
  it('docs/errors.md lists every code with its status and hint, and nothing else', () => {
    const documented = documentedRows();
    const table = new Map(Object.entries(FUSION_ERRORS).map(([code, v]) => [code, { status: v.status, hint: v.hint }]));
    // Regenerate with `npx tsx scripts/errors-doc.ts` when this fails.
    expect(Object.fromEntries(documented)).toEqual(Object.fromEntries(table));
  });

  it('every code is FUSION_ERR_<AREA>_<PROBLEM> with an HTTP status and a hint', () => {
    for (const [code, { status, hint }] of Object.entries(FUSION_ERRORS)) {
      expect(code).toMatch(/^FUSION_ERR_[A-Z]+(_[A-Z]+)*$/);
      expect([code, status >= 400 && status < 600]).toEqual([code, true]);
      expect([code, hint.length > 10]).toEqual([code, true]);
    }
  });

  it('FusionError carries code, status and hint; isFusionError recognizes copies by code', () => {
    const error = new FusionError('FUSION_ERR_CASE_NOT_FOUND', 'case x not found');
    expect([error.code, error.status, error.message]).toEqual(['FUSION_ERR_CASE_NOT_FOUND', 404, 'case x not found']);
    expect(error.hint).toBe(FUSION_ERRORS.FUSION_ERR_CASE_NOT_FOUND.hint);
    expect(new FusionError('FUSION_ERR_INTERNAL', 'x', { status: 502 }).status).toBe(502);
    const foreign = Object.assign(new Error('from another copy'), { code: 'FUSION_ERR_FORBIDDEN' });
    expect(isFusionError(foreign)).toBe(true);
    expect(isFusionError(Object.assign(new Error('x'), { code: 'ENOENT' }))).toBe(false);
    expect(isFusionError('FUSION_ERR_FORBIDDEN')).toBe(false);
  });
});
