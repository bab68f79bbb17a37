/**
 * Codec of `field.datetime()`. Fast paths for the canonical wire forms
 * (`YYYY-MM-DDTHH:MM:SS+00:00` and `…Z`) in both directions; anything else goes through
 * src/helper/datetime.ts (`parseIso`, `toIso`), which defines the accepted forms.
 */
import { parseIso, toIso, truncateToSeconds } from '../helper/datetime.js';
import type { FieldCodec } from './field-base.js';
import { FieldIssue, describeValue, expected } from './field-base.js';

function digits2(text: string, at: number): number {
  const a = text.charCodeAt(at) - 48;
  const b = text.charCodeAt(at + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Parses `YYYY-MM-DDTHH:MM:SS+00:00` or `YYYY-MM-DDTHH:MM:SSZ`; undefined when not in that form. */
export function parseCanonical(text: string): Date | null | undefined {
  const length = text.length;
  if (length === 25) {
    if (text.charCodeAt(19) !== 43 || text.charCodeAt(20) !== 48 || text.charCodeAt(21) !== 48 || text.charCodeAt(22) !== 58) return undefined;
    if (text.charCodeAt(23) !== 48 || text.charCodeAt(24) !== 48) return undefined;
  } else if (length !== 20 || text.charCodeAt(19) !== 90) {
    return undefined;
  }
  if (text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 || text.charCodeAt(10) !== 84) return undefined;
  if (text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58) return undefined;
  const hi = digits2(text, 0);
  const lo = digits2(text, 2);
  const month = digits2(text, 5);
  const day = digits2(text, 8);
  const hour = digits2(text, 11);
  const minute = digits2(text, 14);
  const second = digits2(text, 17);
  if (hi < 0 || lo < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0) return undefined;
  const year = hi * 100 + lo;
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) {
    return null;
  }
  if (year >= 100) return new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  const date = new Date(0); // Date.UTC maps years 0-99 to 1900-1999
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  return date;
}

function pad2(value: number): string {
  return value < 10 ? `0${value}` : `${value}`;
}

/** Formats a Date as `YYYY-MM-DDTHH:MM:SS+00:00` (UTC, seconds precision). */
export function formatCanonical(date: Date): string {
  const year = date.getUTCFullYear();
  if (!(year >= 1000 && year <= 9999)) return toIso(date);
  return `${year}-${pad2(date.getUTCMonth() + 1)}-${pad2(date.getUTCDate())}T${pad2(date.getUTCHours())}:${pad2(date.getUTCMinutes())}:${pad2(date.getUTCSeconds())}+00:00`;
}

/** Codec of `field.datetime()`: Date in memory, `YYYY-MM-DDTHH:MM:SS+00:00` on the wire. */
export const datetimeCodec: FieldCodec<Date, string> = {
  kind: 'datetime',
  decode(value) {
    if (typeof value === 'string') {
      const fast = parseCanonical(value);
      const date = fast === undefined ? parseIso(value) : fast;
      if (date === null) {
        throw new FieldIssue(
          `expected ISO-8601 datetime with offset or Z (like 2024-11-02T09:30:00+00:00), got ${describeValue(value)}`,
        );
      }
      return date;
    }
    if (value instanceof Date && !Number.isNaN(value.getTime())) return truncateToSeconds(value);
    return expected('ISO-8601 datetime', value);
  },
  encode: formatCanonical,
  equals: (a, b) => a.getTime() === b.getTime(),
  clone: (value) => new Date(value.getTime()),
  schema: () => ({ type: 'string', format: 'date-time' }),
  narrows: (other) => other.kind === 'datetime',
};
