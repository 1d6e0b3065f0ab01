import { resolveInstant, type SeriesSpec } from './scenario.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/**
 * Hourly cost buckets of one project in one Gnocchi source, in kopecks.
 * Coarser granularities are sums of the hours inside each epoch-aligned
 * bucket, so a 86400 s bucket runs from 00:00 UTC as in Gnocchi.
 */
export class CostSeries {
  private readonly hours = new Map<number, number>();
  private readonly days = new Map<number, number>();
  private readonly cache = new Map<number, [number, number][]>();

  static fromSpec(spec: SeriesSpec, nowMs: number): CostSeries {
    const series = new CostSeries();
    for (const [at, value] of spec.hourly ?? []) {
      series.addHour(resolveInstant(at, nowMs), value);
    }
    for (const [at, value] of spec.daily ?? []) {
      const dayMs = resolveInstant(at, nowMs);
      series.days.set(Math.floor(dayMs / DAY_MS), value);
    }
    if (spec.generate) series.generate(spec.generate, nowMs);

    return series;
  }

  get isEmpty(): boolean {
    return this.hours.size === 0 && this.days.size === 0;
  }

  addHour(atMs: number, value: number): void {
    const hour = Math.floor(atMs / HOUR_MS);
    this.hours.set(hour, (this.hours.get(hour) ?? 0) + value);
    this.cache.clear();
  }

  /** Adds every bucket of `other` into this series, for account totals. */
  addAll(other: CostSeries): void {
    for (const [hour, value] of other.hours) {
      this.hours.set(hour, (this.hours.get(hour) ?? 0) + value);
    }
    for (const [day, value] of other.days) {
      this.days.set(day, (this.days.get(day) ?? 0) + value);
    }
    this.cache.clear();
  }

  /**
   * Buckets of `granularitySeconds` whose start lies in `[startMs, stopMs)`,
   * with `startMs` first rounded down to a bucket start as Gnocchi does.
   */
  buckets(
    granularitySeconds: number,
    startMs = Number.NEGATIVE_INFINITY,
    stopMs = Number.POSITIVE_INFINITY,
  ): [number, number][] {
    const bucketMs = granularitySeconds * 1000;
    const fromMs = Number.isFinite(startMs)
      ? Math.floor(startMs / bucketMs) * bucketMs
      : startMs;
    const all = this.sorted(bucketMs);

    return all.slice(lowerBound(all, fromMs), lowerBound(all, stopMs));
  }

  /** Every bucket of one length, sorted by start; cached until the series changes. */
  private sorted(bucketMs: number): [number, number][] {
    const cached = this.cache.get(bucketMs);
    if (cached) return cached;
    const sums = new Map<number, number>();
    const add = (atMs: number, value: number) => {
      const bucketStart = Math.floor(atMs / bucketMs) * bucketMs;
      sums.set(bucketStart, (sums.get(bucketStart) ?? 0) + value);
    };
    if (bucketMs >= HOUR_MS) {
      for (const [hour, value] of this.hours) add(hour * HOUR_MS, value);
    }
    if (bucketMs >= DAY_MS) {
      for (const [day, value] of this.days) add(day * DAY_MS, value);
    }
    const result = [...sums].sort((a, b) => a[0] - b[0]);
    this.cache.set(bucketMs, result);

    return result;
  }

  private generate(
    spec: NonNullable<SeriesSpec['generate']>,
    nowMs: number,
  ): void {
    const fromHour = Math.floor(resolveInstant(spec.from, nowMs) / HOUR_MS);
    const toHour = Math.ceil(resolveInstant(spec.to, nowMs) / HOUR_MS);
    const gaps = spec.gaps.map(([from, to]) => [
      resolveInstant(from, nowMs),
      resolveInstant(to, nowMs),
    ]);
    const rates = Array.isArray(spec.kopecksPerHour)
      ? spec.kopecksPerHour
      : [spec.kopecksPerHour];
    for (let hour = fromHour; hour < toHour; hour++) {
      const atMs = hour * HOUR_MS;
      if (gaps.some(([from, to]) => atMs >= (from ?? 0) && atMs < (to ?? 0))) {
        continue;
      }
      this.hours.set(hour, rates[(hour - fromHour) % rates.length] ?? 0);
    }
  }
}

/** Index of the first bucket that starts at or after `ms`. */
function lowerBound(buckets: readonly [number, number][], ms: number): number {
  let low = 0;
  let high = buckets.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if ((buckets[middle] as [number, number])[0] < ms) low = middle + 1;
    else high = middle;
  }

  return low;
}
