/**
 * Five-field cron expressions (minute hour day-of-month month day-of-week, in UTC): `*`,
 * numbers, ranges `a-b`, lists `a,b`, steps `* /n` and `a-b/n`; day 0 and 7 are Sunday. As in
 * classic cron, when both day fields are restricted a day matching either one is due.
 */
import { FusionError } from '../../helper/errors.js';

/** A parsed cron expression. */
export interface CronSchedule {
  readonly source: string;
  readonly minutes: ReadonlySet<number>;
  readonly hours: ReadonlySet<number>;
  readonly days: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  readonly weekdays: ReadonlySet<number>;
  readonly anyDay: boolean;
  readonly anyWeekday: boolean;
}

const FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  { name: 'day of week', min: 0, max: 7 },
] as const;

function bad(source: string, why: string): FusionError {
  return new FusionError('FUSION_ERR_TASK_INVALID', `cron expression ${JSON.stringify(source)}: ${why} (expected 5 fields: minute hour day month weekday, e.g. "*/5 * * * *")`);
}

function parseField(source: string, text: string, spec: (typeof FIELDS)[number]): Set<number> {
  const values = new Set<number>();
  for (const part of text.split(',')) {
    const match = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
    if (!match) throw bad(source, `${spec.name} field ${JSON.stringify(part)} is not *, N, N-M, or one of them with /STEP`);
    const start = match[1] === '*' ? spec.min : Number(match[2]);
    const end = match[1] === '*' ? spec.max : match[3] !== undefined ? Number(match[3]) : match[4] !== undefined ? spec.max : start;
    const step = match[4] !== undefined ? Number(match[4]) : 1;
    if (start < spec.min || end > spec.max || start > end || step < 1) {
      throw bad(source, `${spec.name} field ${JSON.stringify(part)} is outside ${spec.min}-${spec.max}`);
    }
    for (let value = start; value <= end; value += step) values.add(value);
  }
  return values;
}

/** Parses a cron expression; throws FUSION_ERR_TASK_INVALID naming the bad field. */
export function parseCron(source: string): CronSchedule {
  const parts = typeof source === 'string' ? source.trim().split(/\s+/) : [];
  if (parts.length !== 5) throw bad(String(source), `${parts.length} fields`);
  const [minutes, hours, days, months, weekdays] = parts.map((part, index) => parseField(source, part, FIELDS[index]!)) as [
    Set<number>,
    Set<number>,
    Set<number>,
    Set<number>,
    Set<number>,
  ];
  if (weekdays.has(7)) weekdays.add(0);
  return { source, minutes, hours, days, months, weekdays, anyDay: parts[2] === '*', anyWeekday: parts[4] === '*' };
}

function dayMatches(schedule: CronSchedule, date: Date): boolean {
  const day = schedule.days.has(date.getUTCDate());
  const weekday = schedule.weekdays.has(date.getUTCDay());
  if (schedule.anyDay) return weekday;
  if (schedule.anyWeekday) return day;
  return day || weekday;
}

/** The first time strictly after `after` (ms since the epoch) the schedule is due, in ms. */
export function nextCronTime(schedule: CronSchedule, after: number): number {
  const date = new Date(Math.floor(after / 60_000) * 60_000 + 60_000);
  // Five years of days bound the search (a Feb 30th never comes).
  const limit = after + 5 * 366 * 24 * 3600 * 1000;
  while (date.getTime() <= limit) {
    if (!schedule.months.has(date.getUTCMonth() + 1) || !dayMatches(schedule, date)) {
      date.setUTCDate(date.getUTCDate() + 1);
      date.setUTCHours(0, 0, 0, 0);
      continue;
    }
    if (!schedule.hours.has(date.getUTCHours())) {
      date.setUTCHours(date.getUTCHours() + 1, 0, 0, 0);
      continue;
    }
    if (!schedule.minutes.has(date.getUTCMinutes())) {
      date.setUTCMinutes(date.getUTCMinutes() + 1, 0, 0);
      continue;
    }
    return date.getTime();
  }
  throw bad(schedule.source, 'it never comes due');
}
