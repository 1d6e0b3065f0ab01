import { DateTime } from 'luxon';

/**
 * How days are cut. Daily Gnocchi buckets start at 00:00 UTC, so with them
 * days and months are UTC calendar periods; shorter buckets are summed into
 * the configured timezone's local days.
 */
export interface DayConvention {
  kind: 'utc-days' | 'local-days';
  /** Zone the periods follow: `UTC` or the configured timezone. */
  zone: string;
  /** The configured timezone, for labels. */
  timezone: string;
  /** Length of the buckets the days are summed from. */
  granularitySeconds: number;
}

/** A day (`YYYY-MM-DD`) or a month (`YYYY-MM`) as a half-open UTC interval. */
export interface Period {
  key: string;
  startMs: number;
  endMs: number;
}

export const DAY_MS = 86_400_000;

export function dayConvention(
  granularitySeconds: number,
  timezone: string,
): DayConvention {
  return granularitySeconds >= 86_400
    ? { kind: 'utc-days', zone: 'UTC', timezone, granularitySeconds }
    : { kind: 'local-days', zone: timezone, timezone, granularitySeconds };
}

export function dayOf(ms: number, convention: DayConvention): Period {
  const key = localDate(ms, convention.zone);

  return {
    key,
    startMs: startOfLocalDate(key, convention.zone),
    endMs: startOfLocalDate(addDays(key, 1), convention.zone),
  };
}

export function previousDay(day: Period, convention: DayConvention): Period {
  return dayOf(day.startMs - 1, convention);
}

export function monthOf(ms: number, convention: DayConvention): Period {
  const key = localDate(ms, convention.zone).slice(0, 7);
  const first = `${key}-01`;

  return {
    key,
    startMs: startOfLocalDate(first, convention.zone),
    endMs: startOfLocalDate(addMonths(first, 1), convention.zone),
  };
}

/** Day of the month, 1-based, in the convention's zone. */
export function dayOfMonth(ms: number, convention: DayConvention): number {
  return Number(localDate(ms, convention.zone).slice(8, 10));
}

const dateFormats = new Map<string, Intl.DateTimeFormat>();

/** Returns the local date (`YYYY-MM-DD`) of an instant in a zone. */
export function localDate(ms: number, zone: string): string {
  let format = dateFormats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', {
      timeZone: zone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    });
    dateFormats.set(zone, format);
  }

  return format.format(ms);
}

/**
 * Finds the first instant whose local date is `date` (`YYYY-MM-DD`), found
 * by bisection over the minutes around UTC midnight rather than by setting a
 * local time, because in zones that change their clocks at midnight (Chile,
 * Cuba, Lebanon) local midnight is skipped or repeated. The local date only
 * ever moves forward, so the bisection is exact to the minute.
 */
function startOfLocalDate(date: string, zone: string): number {
  const utcMidnight = Date.parse(`${date}T00:00:00Z`);
  // UTC offsets lie between -12 and +14 hours.
  let before = utcMidnight - 15 * 3_600_000;
  let atOrAfter = utcMidnight + 13 * 3_600_000;
  while (atOrAfter - before > 60_000) {
    const middle = before + Math.floor((atOrAfter - before) / 120_000) * 60_000;
    if (localDate(middle, zone) >= date) atOrAfter = middle;
    else before = middle;
  }

  return atOrAfter;
}

function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS)
    .toISOString()
    .slice(0, 10);
}

function addMonths(date: string, months: number): string {
  const [year, month] = date.split('-').map(Number) as [number, number];
  const next = new Date(Date.UTC(year, month - 1 + months, 1));

  return next.toISOString().slice(0, 10);
}

/**
 * Describes the convention for reports, such as
 * "UTC days from daily buckets: a day ends at 03:00 Europe/Moscow".
 */
export function describeConvention(
  convention: DayConvention,
  atMs: number,
): string {
  if (convention.kind === 'local-days') {
    const minutes = convention.granularitySeconds / 60;
    const buckets = minutes === 60 ? 'hourly' : `${minutes}-minute`;
    return `local days in ${convention.timezone} from ${buckets} buckets`;
  }
  const endLocal = DateTime.fromMillis(dayOf(atMs, convention).endMs, {
    zone: convention.timezone,
  });

  return `UTC days from daily buckets: a day ends at ${endLocal.toFormat('HH:mm')} ${convention.timezone}`;
}
