// Every (from, to) pair of Analysis statuses: exactly the moves of DESIGN.md section 12 are legal, the others refused (409); transitionColumns writes what a move changes.
import { expect, it } from '@jest/globals';
import { ANALYSIS_TRANSITIONS, Analysis, AnalysisStatus, isLegalTransition } from '../../../src/concept/index.js';
import { transitionColumns } from '../../../src/server/analyzer/analysis-rows.js';

/** DESIGN.md section 12, restated: forward one step (any working step may fail), back to pending when interrupted or queued again. */
const LEGAL = new Set([
  'pending>queued',
  'queued>extracting',
  'extracting>processing',
  'processing>success',
  'queued>failure',
  'extracting>failure',
  'processing>failure',
  'queued>pending',
  'extracting>pending',
  'processing>pending',
  'success>pending',
  'failure>pending',
]);
const STATUSES = Object.values(AnalysisStatus);
const GUID = '6f1c2d9a-3b1e-4f5a-9c8d-7e6f5a4b3c2d';

it.each(STATUSES.flatMap((from) => STATUSES.map((to) => [from, to] as const)))('%s → %s', (from, to) => {
  const analysis = Analysis.fromJSON({ case_guid: GUID, analyzer: 'a', status: from });
  const legal = LEGAL.has(`${from}>${to}`);
  expect(isLegalTransition(from, to)).toBe(legal);
  expect(ANALYSIS_TRANSITIONS[from].includes(to)).toBe(legal);
  if (legal) {
    expect(analysis.transition(to, 'why').status).toBe(to);
    if (to === 'extracting') expect(analysis.started).not.toBeNull();
    if (to === 'success' || to === 'failure') expect(analysis.finished).not.toBeNull();
    if (to === 'failure') expect(analysis.error).toBe('why');
    if (to === 'pending') expect([analysis.started, analysis.finished, analysis.error]).toEqual([null, null, null]);
  } else {
    expect(() => analysis.transition(to)).toThrow(expect.objectContaining({ code: 'FUSION_ERR_ANALYSIS_TRANSITION', status: 409, message: expect.stringContaining(`cannot go from ${from} to ${to}`) }));
    expect(analysis.status).toBe(from);
  }
});

it.each(STATUSES.flatMap((from) => STATUSES.map((to) => [from, to] as const)))('transitionColumns %s → %s: the columns Analysis.transition changes, and only those', (from, to) => {
  if (!LEGAL.has(`${from}>${to}`)) {
    expect(() => transitionColumns(from, to)).toThrow(expect.objectContaining({ code: 'FUSION_ERR_ANALYSIS_TRANSITION' }));
    return;
  }
  const earlier = new Date('2026-01-01T00:00:00Z');
  const before = Analysis.fromJSON({ case_guid: GUID, analyzer: 'a', status: from, started: earlier.toISOString(), finished: earlier.toISOString(), error: 'earlier' });
  const after = Analysis.fromJSON(before.toJSON()).transition(to, 'why');
  const columns = transitionColumns(from, to, 'why');
  const changed = (['status', 'updated', 'started', 'finished', 'error'] as const).filter((key) => JSON.stringify(after[key]) !== JSON.stringify(before[key]));
  expect(Object.keys(columns).sort()).toEqual([...changed].sort());
  expect(columns.status).toBe(to);
  for (const key of ['started', 'finished'] as const) if (key in columns) expect(columns[key] === null).toBe(after[key] === null);
  if ('error' in columns) expect(columns.error).toBe(after.error);
});
