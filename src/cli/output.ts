/** How `fusion` prints results: JSON with `--json`, aligned text tables otherwise. */
import type { CliOutput } from './cli-io.js';

/** A value as one table cell: lists joined with commas, absent values as `-`. */
export function cell(value: unknown): string {
  if (value === undefined || value === null || value === '') return '-';
  if (Array.isArray(value)) return value.length === 0 ? '-' : value.map(cell).join(',');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value).replace(/[\r\n\t]+/g, ' ');
}

/** Rows under a header, columns padded to the widest cell. */
export function formatTable(columns: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const cells = [columns.map((c) => c.toUpperCase()), ...rows.map((row) => row.map(cell))];
  const widths = columns.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)));
  return cells.map((row) => row.map((text, i) => (i === row.length - 1 ? text : text.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}

/** One `key  value` line per entry of an object. */
export function formatRecord(record: Record<string, unknown>): string {
  const width = Math.max(0, ...Object.keys(record).map((key) => key.length));
  return Object.entries(record).map(([key, value]) => `${key.padEnd(width)}  ${cell(value)}`).join('\n') + '\n';
}

/** The wire form of a concept (its toJSON), or the value itself. */
export function wire(value: unknown): unknown {
  if (typeof value === 'object' && value !== null && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return (value as { toJSON(): unknown }).toJSON();
  }
  return value;
}

/** Prints `value` as JSON when `json`, else the text `asText` renders from its wire form. */
export function printResult<T>(out: CliOutput, json: boolean, value: T, asText: (data: T) => string): void {
  out.write(json ? `${JSON.stringify(wire(value) ?? null, null, 2)}\n` : asText(value));
}
