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

/** What one data source gave for one project. */
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
  /** Why the status is not `ok`. */
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
 * of every source. Pure: the same input always gives the same output.
 */
export function evaluateSpend(input: SpendInput): Spend {
  const { runAtMs, convention } = input;
  const buckets = usableBuckets(input);
  const today = dayOf(runAtMs, convention);
  const yesterday = previousDay(today, convention);
  const month = monthOf(runAtMs, convention);
  const newestBucketMs = buckets.reduce<number | null>(
    (newest, bucket) =>
      newest === null || bucket.startMs > newest ? bucket.startMs : newest,
    null,
  );
  const { dataStatus, reason } = statusOf(
    input,
    buckets.length,
    newestBucketMs,
  );

  return {
    dataStatus,
    reason,
    newestBucketMs,
    days: [
      daySpend(yesterday, buckets, input),
      daySpend(today, buckets, input),
    ],
    month: {
      month: month.key,
      startMs: month.startMs,
      endMs: month.endMs,
      spentKopecks: sumKopecks(buckets, month.startMs, runAtMs + 1),
      forecastKopecks: forecast(month, buckets, input),
    },
  };
}

function usableBuckets(input: SpendInput): CostBucket[] {
  return input.sources.flatMap((source) =>
    source.kind === 'ok'
      ? source.buckets.filter(
          (bucket) =>
            bucket.granularitySeconds === input.granularitySeconds &&
            bucket.startMs <= input.runAtMs,
        )
      : [],
  );
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
  day: Period,
  buckets: CostBucket[],
  input: SpendInput,
): DaySpend {
  const inDay = buckets.filter(
    (bucket) => bucket.startMs >= day.startMs && bucket.startMs < day.endMs,
  );
  const lastBucketMs = day.endMs - input.granularitySeconds * 1000;

  return {
    date: day.key,
    startMs: day.startMs,
    endMs: day.endMs,
    spentKopecks: sumKopecks(inDay, day.startMs, day.endMs),
    complete:
      input.runAtMs >= day.endMs &&
      inDay.some((bucket) => bucket.startMs === lastBucketMs),
    buckets: inDay.length,
  };
}

/** Sums buckets that start in `[fromMs, toMs)`, exactly, then rounds once. */
function sumKopecks(
  buckets: readonly CostBucket[],
  fromMs: number,
  toMs: number,
): number {
  let micro = 0n;
  for (const bucket of buckets) {
    if (bucket.startMs >= fromMs && bucket.startMs < toMs) {
      micro += toMicroKopecks(bucket.value);
    }
  }

  return microToKopecks(micro);
}

/**
 * Forecasts the month from the third day on: month to date plus the average
 * of up to seven complete days before today, times the days left (a fraction
 * for the rest of today). Null before then or without a complete day.
 */
function forecast(
  month: Period,
  buckets: CostBucket[],
  input: SpendInput,
): number | null {
  const { runAtMs, convention } = input;
  if (dayOfMonth(runAtMs, convention) < FORECAST_FROM_DAY) return null;
  const recent: number[] = [];
  let day = previousDay(dayOf(runAtMs, convention), convention);
  while (day.startMs >= month.startMs && recent.length < FORECAST_DAYS) {
    const spend = daySpend(day, buckets, input);
    if (spend.complete) recent.push(spend.spentKopecks);
    day = previousDay(day, convention);
  }
  if (recent.length === 0) return null;
  const averageKopecks =
    recent.reduce((sum, value) => sum + value, 0) / recent.length;
  const daysLeft = (month.endMs - runAtMs) / DAY_MS;

  return (
    sumKopecks(buckets, month.startMs, runAtMs + 1) +
    Math.round(averageKopecks * daysLeft)
  );
}
