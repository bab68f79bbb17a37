/** The closing lines of an HTTP benchmark: medians over the rounds, the load, the docs row. */
import { availableParallelism } from 'node:os';
import type { HttpComparison } from './http.js';
import { comparisonRow, markdownHeader, COMPARISON_COLUMNS } from './report.js';
import { formatLoad, median } from './stats.js';

/** Prints median req/s of both targets, their ratio, the load average and the docs/performance.md row. */
export function printHttpSummary(
  benchmark: string,
  result: HttpComparison,
  load: { min: number; median: number; max: number },
  target: number,
): { baseline: number; candidate: number; ratio: number } {
  const baseline = median(result.baseline.rounds.map((r) => r.requestsPerSecond));
  const candidate = median(result.candidate.rounds.map((r) => r.requestsPerSecond));
  // Rounds alternate baseline/candidate: the ratio of each pair cancels slow drifts of the machine.
  const pairs = result.baseline.rounds.map((r, i) => (result.candidate.rounds[i]?.requestsPerSecond ?? Number.NaN) / r.requestsPerSecond);
  console.log('');
  console.log(`median req/s: baseline ${Math.round(baseline)}, candidate ${Math.round(candidate)}, ratio ${(candidate / baseline).toFixed(3)}`);
  console.log(`per-round ratios: ${pairs.map((p) => p.toFixed(3)).join(' ')} (median ${median(pairs).toFixed(3)})`);
  console.log(formatLoad(load, availableParallelism()));
  console.log('');
  console.log(markdownHeader([...COMPARISON_COLUMNS]));
  console.log(comparisonRow(benchmark, { baseline, candidate, unit: 'req/s', target }));
  return { baseline, candidate, ratio: candidate / baseline };
}
