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
  const start = DateTime.fromMillis(ms, { zone: convention.zone }).startOf(
    'day',
  );

  return {
    key: start.toISODate() as string,
    startMs: start.toMillis(),
    // plus({ days: 1 }) keeps 23- and 25-hour days of daylight saving time.
    endMs: start.plus({ days: 1 }).toMillis(),
  };
}

export function previousDay(day: Period, convention: DayConvention): Period {
  return dayOf(day.startMs - 1, convention);
}

export function monthOf(ms: number, convention: DayConvention): Period {
  const start = DateTime.fromMillis(ms, { zone: convention.zone }).startOf(
    'month',
  );

  return {
    key: start.toFormat('yyyy-MM'),
    startMs: start.toMillis(),
    endMs: start.plus({ months: 1 }).toMillis(),
  };
}

/** Day of the month, 1-based, in the convention's zone. */
export function dayOfMonth(ms: number, convention: DayConvention): number {
  return DateTime.fromMillis(ms, { zone: convention.zone }).day;
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
