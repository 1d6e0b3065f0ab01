import { expect, it } from 'vitest';
import { dayConvention } from '../../lib/costs/calendar.js';
import { type CostBucket, evaluateSpend } from '../../lib/costs/spend.js';

const HOUR_MS = 3_600_000;

/** Hourly buckets of 1 kopeck over the 40 days before `runAtMs`, one of them `spike`. */
function series(
  runAtMs: number,
  spikeStart: string,
  spike: number,
): CostBucket[] {
  const buckets: CostBucket[] = [];
  const spikeMs = Date.parse(spikeStart);
  for (
    let start = runAtMs - 40 * 24 * HOUR_MS;
    start <= runAtMs;
    start += HOUR_MS
  ) {
    buckets.push({
      startMs: start,
      granularitySeconds: 3600,
      value: start === spikeMs ? spike : 1,
    });
  }
  return buckets;
}

function evaluate(zone: string, at: string, buckets: CostBucket[]) {
  return evaluateSpend({
    runAtMs: Date.parse(at),
    convention: dayConvention(3600, zone),
    granularitySeconds: 3600,
    staleAfterMs: 36 * HOUR_MS,
    sources: [{ kind: 'ok', buckets }],
  });
}

it('midnight DST jump day attribution', () => {
  // Chile moved clocks from 2026-09-06 00:00 to 01:00, so that day has 23
  // hours; 03:00Z on 09-07 is 00:00 local on 09-07.
  const at = '2026-09-07T12:00:00Z';
  const spend = evaluate(
    'America/Santiago',
    at,
    series(Date.parse(at), '2026-09-07T03:00:00Z', 100_000),
  );

  expect(spend.days[0].date).toBe('2026-09-06');
  expect(spend.days[0].spentKopecks).toBe(23);
  expect(spend.days[1].spentKopecks).toBe(100_000 + 9);
});

it('midnight DST fall-back month start', () => {
  // Cuba set clocks back from 2026-11-01 01:00 to 00:00: 04:00Z is the first
  // 00:00 of November 1 (-04:00), and the day has 25 hours.
  const at = '2026-11-01T12:00:00Z';
  const spend = evaluate(
    'America/Havana',
    at,
    series(Date.parse(at), '2026-11-01T04:00:00Z', 100_000),
  );

  expect(spend.month.month).toBe('2026-11');
  expect(spend.month.spentKopecks).toBe(100_000 + 8);
  expect(spend.days[1].spentKopecks).toBe(100_000 + 8);
});

it('day before midnight jump completes', () => {
  // Lebanon moved clocks from 2026-03-29 00:00 to 01:00.
  const at = '2026-03-30T12:00:00Z';
  const spend = evaluate(
    'Asia/Beirut',
    at,
    series(Date.parse(at), '1970-01-01T00:00:00Z', 0),
  );

  expect(spend.days[0].date).toBe('2026-03-29');
  expect(spend.days[0].spentKopecks).toBe(23);
  expect(spend.days[0].complete).toBe(true);
});
