/** Datetimes on the wire: ISO-8601, seconds precision, UTC written as `+00:00` (as edf_fusion). */

const ISO_WITH_OFFSET =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)$/i;

/** Returns `date` truncated to whole seconds (the precision datetimes keep on the wire). */
export function truncateToSeconds(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

/** Returns the current time in UTC, truncated to whole seconds. */
export function utcNow(): Date {
  return truncateToSeconds(new Date());
}

/** Formats a Date as `YYYY-MM-DDTHH:MM:SS+00:00` (UTC, seconds precision). */
export function toIso(date: Date): string {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) {
    throw new TypeError('toIso expects a valid Date');
  }
  return `${date.toISOString().slice(0, 19)}+00:00`;
}

/**
 * Parses an ISO-8601 datetime that carries an offset or `Z` (naive datetimes are refused:
 * their zone is ambiguous). Fractions of a second are dropped. Returns null when `text`
 * is not such a datetime.
 */
export function parseIso(text: string): Date | null {
  const match = ISO_WITH_OFFSET.exec(text);
  if (!match) return null;
  const [, year, month, day, hour, minute, second = '00', , offset] = match;
  const fields = [Number(month), Number(day), Number(hour), Number(minute), Number(second)];
  const [mo, d, h, mi, s] = fields as [number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return null;
  let offsetMinutes = 0;
  if (offset && offset.toUpperCase() !== 'Z') {
    const sign = offset.startsWith('-') ? -1 : 1;
    const digits = offset.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
    if (oh > 23 || om > 59) return null;
    offsetMinutes = sign * (oh * 60 + om);
  }
  // Date.UTC maps years 0-99 to 1900-1999: set the full year explicitly.
  const base = new Date(Date.UTC(2000, mo - 1, d, h, mi, s));
  base.setUTCFullYear(Number(year));
  const utc = base.getTime() - offsetMinutes * 60_000;
  const date = new Date(utc);
  // Date.UTC rolls over impossible days (Feb 30): detect it by reading the day back.
  const local = new Date(utc + offsetMinutes * 60_000);
  if (local.getUTCDate() !== d || local.getUTCMonth() !== mo - 1) return null;
  return date;
}

/** Parses an ISO-8601 datetime with an offset or `Z`; throws a TypeError naming the bad text. */
export function fromIso(text: string): Date {
  const date = parseIso(text);
  if (date === null) {
    throw new TypeError(`expected ISO-8601 datetime with offset, got ${JSON.stringify(text)}`);
  }
  return date;
}
