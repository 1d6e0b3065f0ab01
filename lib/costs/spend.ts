import {
  DAY_MS,
  type DayConvention,
  dayOf,
  dayOfMonth,
  monthOf,
  type Period,
  previousDay,
} from './calendar.js';
import { microToKopecks, toMicroKopecks } from './money.js';

/** A bucket of a cost series: its start and its value in kopecks. */
export interface CostBucket {
  startMs: number;
  granularitySeconds: number;
  value: number;
}

/** Result of one data source for one project. */
export type SourceSeries =
  | { kind: 'ok'; buckets: readonly CostBucket[] }
  /** The project resource has no cost metric in this source. */
  | { kind: 'missing_metric' }
  /** The project has no resource in this source. */
  | { kind: 'absent' }
  | { kind: 'error'; message: string };

export const DATA_STATUSES = ['ok', 'no_data', 'stale', 'error'] as const;
export type DataStatus = (typeof DATA_STATUSES)[number];

export interface DaySpend {
  date: string;
  startMs: number;
  endMs: number;
  spentKopecks: number;
  /** The run is past the day's end and the bucket that ends it is present. */
  complete: boolean;
  buckets: number;
}

export interface MonthSpend {
  month: string;
  startMs: number;
  endMs: number;
  spentKopecks: number;
  /** Month-to-date plus the recent daily average times the days left. */
  forecastKopecks: number | null;
}

export interface Spend {
  dataStatus: DataStatus;
  /** Reason the status is not `ok`, or a note when it is. */
  reason: string | null;
  newestBucketMs: number | null;
  /** The previous day and the current day, oldest first. */
  days: [DaySpend, DaySpend];
  month: MonthSpend;
}

export interface SpendInput {
  runAtMs: number;
  convention: DayConvention;
  granularitySeconds: number;
  staleAfterMs: number;
  sources: readonly SourceSeries[];
}

/** Days of the month before the forecast starts. */
const FORECAST_FROM_DAY = 3;
/** Complete days averaged for the forecast, newest first. */
const FORECAST_DAYS = 7;

/**
 * Interval to read so one query covers the previous day, the month to date
 * and the forecast's recent days; `stop` is exclusive, as in Gnocchi.
 */
export function queryWindow(
  runAtMs: number,
  convention: DayConvention,
): { startMs: number; stopMs: number } {
  const today = dayOf(runAtMs, convention);
  const yesterday = previousDay(today, convention);
  const month = monthOf(runAtMs, convention);

  return {
    startMs: Math.min(yesterday.startMs, month.startMs),
    stopMs: runAtMs,
  };
}

/**
 * Works out a project's spend per period and its data status from the series
 * of every source, in one pass over the buckets. Pure: the same input always
 * gives the same output.
 */
export function evaluateSpend(input: SpendInput): Spend {
  const calendar = runCalendar(input.runAtMs, input.convention);
  const sums = sumBuckets(input, calendar);
  const { dataStatus, reason } =
    sums.invalid > 0
      ? {
          dataStatus: 'error' as const,
          reason: `${sums.invalid} bucket value(s) out of range; the series cannot be summed`,
        }
      : statusOf(input, sums.count, sums.newestMs);
  const monthSpent = sums.month.kopecks();

  return {
    dataStatus,
    reason: reason ?? laggingSourceNote(input, sums),
    newestBucketMs: sums.newestMs,
    days: [
      daySpend(calendar.days, sums, 1, input),
      daySpend(calendar.days, sums, 0, input),
    ],
    month: {
      month: calendar.month.key,
      startMs: calendar.month.startMs,
      endMs: calendar.month.endMs,
      spentKopecks: monthSpent,
      // A forecast from data that is old, missing or partial would mislead.
      forecastKopecks:
        dataStatus === 'ok'
          ? forecast(calendar, sums, monthSpent, input)
          : null,
    },
  };
}

/** The periods of one run: every day from today back to the month start. */
interface RunCalendar {
  /** Today first, then each day before it down to yesterday or the month start, whichever is earlier. */
  days: Period[];
  month: Period;
  dayOfMonth: number;
}

let lastCalendar: { key: string; calendar: RunCalendar } | undefined;

/**
 * Builds the days and the month of a run. Every project of a run shares the
 * same instant and convention, so the last result is reused: working out
 * zone offsets is the costliest step of the whole evaluation.
 */
function runCalendar(runAtMs: number, convention: DayConvention): RunCalendar {
  const key = `${runAtMs}|${convention.zone}|${convention.kind}`;
  if (lastCalendar?.key === key) return lastCalendar.calendar;
  const month = monthOf(runAtMs, convention);
  const days = [dayOf(runAtMs, convention)];
  for (;;) {
    const earlier = previousDay(days.at(-1) as Period, convention);
    days.push(earlier);
    if (earlier.startMs <= month.startMs || days.length > 32) break;
  }
  const calendar = { days, month, dayOfMonth: dayOfMonth(runAtMs, convention) };
  lastCalendar = { key, calendar };

  return calendar;
}

/** Sums per period in integer micro-kopecks. */
interface BucketSums {
  count: number;
  /** Buckets left out because their value cannot be summed exactly. */
  invalid: number;
  /** With several sources: the newest bucket of the source that lags most. */
  oldestSourceNewestMs: number | null;
  newestMs: number | null;
  month: MicroSum;
  /** By index in `RunCalendar.days`. */
  days: MicroSum[];
  /** Whether the bucket that ends each day was seen. */
  lastBucketSeen: boolean[];
  bucketsPerDay: number[];
}

function sumBuckets(input: SpendInput, calendar: RunCalendar): BucketSums {
  const { days, month } = calendar;
  const bucketMs = input.granularitySeconds * 1000;
  const sums: BucketSums = {
    count: 0,
    invalid: 0,
    oldestSourceNewestMs: null,
    newestMs: null,
    month: new MicroSum(),
    days: days.map(() => new MicroSum()),
    lastBucketSeen: days.map(() => false),
    bucketsPerDay: days.map(() => 0),
  };
  const oldestMs = (days.at(-1) as Period).startMs;
  const newestPerSource: number[] = [];
  for (const source of input.sources) {
    if (source.kind !== 'ok') continue;
    let sourceNewestMs: number | null = null;
    for (const bucket of source.buckets) {
      const startMs = bucket.startMs;
      if (
        bucket.granularitySeconds !== input.granularitySeconds ||
        startMs > input.runAtMs
      )
        continue;
      sums.count++;
      if (sourceNewestMs === null || startMs > sourceNewestMs)
        sourceNewestMs = startMs;
      if (sums.newestMs === null || startMs > sums.newestMs)
        sums.newestMs = startMs;
      const micro = Math.round(bucket.value * 1_000_000);
      if (!Number.isSafeInteger(micro)) {
        sums.invalid++;
        continue;
      }
      if (startMs >= month.startMs) sums.month.add(micro);
      if (startMs < oldestMs) continue;
      const index = dayIndex(days, startMs);
      if (index < 0) continue;
      (sums.days[index] as MicroSum).add(micro);
      (sums.bucketsPerDay[index] as number)++;
      if (startMs === (days[index] as Period).endMs - bucketMs)
        sums.lastBucketSeen[index] = true;
    }
    if (sourceNewestMs !== null) newestPerSource.push(sourceNewestMs);
  }
  sums.oldestSourceNewestMs =
    newestPerSource.length > 1 ? Math.min(...newestPerSource) : null;

  return sums;
}

/** Index of the day that contains `ms` in days sorted newest first, or -1. */
function dayIndex(days: readonly Period[], ms: number): number {
  let low = 0;
  let high = days.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const day = days[middle] as Period;
    if (ms < day.startMs) low = middle + 1;
    else if (ms >= day.endMs) high = middle - 1;
    else return middle;
  }

  return -1;
}

/**
 * An exact sum of integer micro-kopecks: a double while the total stays
 * below 2^53, a BigInt past that, so no amount the config accepts loses
 * precision.
 */
class MicroSum {
  private small = 0;
  private large: bigint | undefined;

  add(micro: number): void {
    if (this.large !== undefined) {
      this.large += BigInt(micro);
      return;
    }
    const next = this.small + micro;
    if (Number.isSafeInteger(next) && Number.isSafeInteger(micro)) {
      this.small = next;
      return;
    }
    this.large = BigInt(this.small) + toMicroKopecks(micro / 1_000_000);
  }

  kopecks(): number {
    return this.large === undefined
      ? microToKopecks(BigInt(this.small))
      : microToKopecks(this.large);
  }
}

/**
 * Notes a source that stopped sending buckets while another is current.
 * NOTE: the status stays `ok`, because a project that stopped using one
 * service looks the same as a source that stopped reporting, and marking
 * it stale would block its cuts; the note shows in the report instead.
 */
function laggingSourceNote(input: SpendInput, sums: BucketSums): string | null {
  const lagging = sums.oldestSourceNewestMs;
  if (lagging === null || input.runAtMs - lagging <= input.staleAfterMs)
    return null;
  const hours = Math.floor((input.runAtMs - lagging) / 3_600_000);

  return `one data source has no bucket for ${hours} h while another is current; its recent spend may be missing`;
}

function statusOf(
  input: SpendInput,
  bucketCount: number,
  newestBucketMs: number | null,
): { dataStatus: DataStatus; reason: string | null } {
  const failed = input.sources.find((source) => source.kind === 'error');
  if (failed?.kind === 'error') {
    return { dataStatus: 'error', reason: failed.message };
  }
  if (!input.sources.some((source) => source.kind === 'ok')) {
    return { dataStatus: 'no_data', reason: 'the cost metric is missing' };
  }
  if (bucketCount === 0 || newestBucketMs === null) {
    return { dataStatus: 'no_data', reason: 'the cost series is empty' };
  }
  const ageMs = input.runAtMs - newestBucketMs;
  if (ageMs > input.staleAfterMs) {
    const hours = Math.floor(ageMs / 3_600_000);
    return {
      dataStatus: 'stale',
      reason: `the newest bucket started ${hours} h before the run`,
    };
  }

  return { dataStatus: 'ok', reason: null };
}

function daySpend(
  days: readonly Period[],
  sums: BucketSums,
  index: number,
  input: SpendInput,
): DaySpend {
  const day = days[index] as Period;

  return {
    date: day.key,
    startMs: day.startMs,
    endMs: day.endMs,
    spentKopecks: (sums.days[index] as MicroSum).kopecks(),
    complete:
      input.runAtMs >= day.endMs && (sums.lastBucketSeen[index] as boolean),
    buckets: sums.bucketsPerDay[index] as number,
  };
}

/**
 * Forecasts the month from the third day on: month to date plus the average
 * of up to seven complete days before today, times the days left (a fraction
 * for the rest of today). Null before then or without a complete day.
 */
function forecast(
  calendar: RunCalendar,
  sums: BucketSums,
  monthSpent: number,
  input: SpendInput,
): number | null {
  if (calendar.dayOfMonth < FORECAST_FROM_DAY) return null;
  const recent: number[] = [];
  for (
    let index = 1;
    index < calendar.days.length && recent.length < FORECAST_DAYS;
    index++
  ) {
    const day = calendar.days[index] as Period;
    if (day.startMs < calendar.month.startMs) break;
    const spend = daySpend(calendar.days, sums, index, input);
    if (spend.complete) recent.push(spend.spentKopecks);
  }
  if (recent.length === 0) return null;
  const averageKopecks =
    recent.reduce((sum, value) => sum + value, 0) / recent.length;
  const daysLeft = (calendar.month.endMs - input.runAtMs) / DAY_MS;

  return monthSpent + Math.round(averageKopecks * daysLeft);
}
