/** Markdown output for benchmark results (rows for docs/performance.md). */

/** A table cell: text as is, numbers with thousands separators (at most 3 decimals). */
export type Cell = string | number;

function format(cell: Cell): string {
  const text = typeof cell === 'number' ? cell.toLocaleString('en-US', { maximumFractionDigits: 3 }) : cell;
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** One markdown table row: `| a | b | c |`. */
export function markdownRow(cells: readonly Cell[]): string {
  return `| ${cells.map(format).join(' | ')} |`;
}

/** The header row and separator of a markdown table. */
export function markdownHeader(columns: readonly string[]): string {
  return `${markdownRow(columns)}\n|${columns.map(() => '---').join('|')}|`;
}

/** A whole markdown table. */
export function markdownTable(columns: readonly string[], rows: readonly (readonly Cell[])[]): string {
  return [markdownHeader(columns), ...rows.map(markdownRow)].join('\n');
}

/** Columns of `comparisonRow`. */
export const COMPARISON_COLUMNS = ['benchmark', 'baseline', 'candidate', 'ratio', 'target', 'met'] as const;

/**
 * A row comparing a candidate to its baseline: `| GET /api/info | 20,000 req/s | 19,000 req/s |
 * 0.95 | >= 0.9 | yes |`. `higherIsBetter` false for durations (ratio must stay <= target).
 */
export function comparisonRow(
  benchmark: string,
  result: { baseline: number; candidate: number; unit: string; target?: number; higherIsBetter?: boolean },
): string {
  const ratio = result.candidate / result.baseline;
  const higher = result.higherIsBetter ?? true;
  const target = result.target === undefined ? '' : `${higher ? '>=' : '<='} ${result.target}`;
  const met = result.target === undefined ? '' : (higher ? ratio >= result.target : ratio <= result.target) ? 'yes' : 'no';
  return markdownRow([
    benchmark,
    `${format(Math.round(result.baseline))} ${result.unit}`,
    `${format(Math.round(result.candidate))} ${result.unit}`,
    ratio.toFixed(3),
    target,
    met,
  ]);
}
