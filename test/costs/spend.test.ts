import { describe, expect, it } from 'vitest';
import { toKopecks } from '../../lib/config/budgets.js';
import {
  dayConvention,
  dayOf,
  dayOfMonth,
  describeConvention,
  monthOf,
  previousDay,
} from '../../lib/costs/calendar.js';
import { levelFor } from '../../lib/costs/levels.js';
import {
  type CostBucket,
  evaluateSpend,
  queryWindow,
  type SourceSeries,
  type Spend,
} from '../../lib/costs/spend.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const HOURLY = 3600;
const DAILY = 86_400;
/** Outside the period under test: large, so a wrong boundary shows. */
const OUTSIDE = 1_000_000;

const ms = (iso: string) => Date.parse(iso);

/** Rows for `it.each`, each led by its title so that '%s' prints it bare. */
function titled<T extends { title: string }>(rows: T[]): [string, T][] {
  return rows.map((row) => [row.title, row]);
}

/** Consecutive buckets from `startIso`, one per value. */
function series(
  startIso: string,
  granularitySeconds: number,
  values: readonly number[],
): CostBucket[] {
  const startMs = ms(startIso);

  return values.map((value, index) => ({
    startMs: startMs + index * granularitySeconds * 1000,
    granularitySeconds,
    value,
  }));
}

/** Daily buckets keyed by their UTC start date. */
function daily(values: Readonly<Record<string, number | undefined>>) {
  return Object.entries(values).flatMap(([date, value]): CostBucket[] =>
    value === undefined
      ? []
      : [
          {
            startMs: ms(`${date}T00:00:00Z`),
            granularitySeconds: DAILY,
            value,
          },
        ],
  );
}

/** Hourly buckets of one value, one for every hour starting in `[from, to)`. */
function hours(fromIso: string, toIso: string, value: number): CostBucket[] {
  const count = Math.ceil((ms(toIso) - ms(fromIso)) / HOUR_MS);

  return series(fromIso, HOURLY, Array<number>(count).fill(value));
}

const ok = (buckets: CostBucket[]): SourceSeries => ({ kind: 'ok', buckets });

interface Run {
  runAt: string;
  granularitySeconds?: number;
  timezone?: string;
  staleAfterHours?: number;
  sources: SourceSeries[];
}

function spendAt(run: Run): Spend {
  const granularitySeconds = run.granularitySeconds ?? DAILY;

  return evaluateSpend({
    runAtMs: ms(run.runAt),
    convention: dayConvention(
      granularitySeconds,
      run.timezone ?? 'Europe/Moscow',
    ),
    granularitySeconds,
    staleAfterMs: (run.staleAfterHours ?? 36) * HOUR_MS,
    sources: run.sources,
  });
}

const offsetFormats = new Map<string, Intl.DateTimeFormat>();

/** UTC offset of `zone` at an instant, in minutes, read from Intl. */
function offsetMinutes(zone: string, atMs: number): number {
  let format = offsetFormats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      timeZoneName: 'longOffset',
    });
    offsetFormats.set(zone, format);
  }
  const name = format
    .formatToParts(atMs)
    .find((part) => part.type === 'timeZoneName')?.value;
  const match = /GMT([+-])(\d{2}):(\d{2})/.exec(name ?? '');
  if (!match) return 0;
  const minutes = Number(match[2]) * 60 + Number(match[3]);

  return match[1] === '-' ? -minutes : minutes;
}

/** Formats the local calendar date of an instant in `zone` as `YYYY-MM-DD`. */
function localDate(zone: string, atMs: number): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: zone }).format(atMs);
}

/** Finds the instant of the local midnight that starts `date` in `zone`. */
function localMidnightMs(zone: string, date: string): number {
  const wallMs = ms(`${date}T00:00:00Z`);
  const guessMs = wallMs - offsetMinutes(zone, wallMs) * 60_000;

  return wallMs - offsetMinutes(zone, guessMs) * 60_000;
}

/** Local dates in 2026 on which `zone` changes its UTC offset. */
function changeoverDates(zone: string): string[] {
  const dates: string[] = [];
  const endMs = ms('2027-01-01T00:00:00Z');
  for (let atMs = ms('2026-01-01T01:00:00Z'); atMs < endMs; atMs += HOUR_MS) {
    if (offsetMinutes(zone, atMs) !== offsetMinutes(zone, atMs - HOUR_MS)) {
      dates.push(localDate(zone, atMs));
    }
  }

  return dates;
}

describe('evaluateSpend with daily buckets', () => {
  // An 86400 s bucket starts at 00:00 UTC, so days and months are UTC
  // calendar periods whatever the configured timezone is.
  it.each(
    titled([
      {
        title: 'run at 00:30 UTC on the 1st',
        runAt: '2026-03-01T00:30:00Z',
        buckets: { '2026-02-27': 1000, '2026-02-28': 2000, '2026-03-01': 300 },
        yesterday: { date: '2026-02-28', spent: 2000, complete: true },
        today: { date: '2026-03-01', spent: 300, complete: false },
        // February's buckets start before the month: only March 1 counts.
        month: { key: '2026-03', spent: 300 },
      },
      {
        title: 'run at 23:59 UTC on the last day',
        runAt: '2026-03-31T23:59:00Z',
        buckets: { '2026-03-29': 400, '2026-03-30': 500, '2026-03-31': 600 },
        yesterday: { date: '2026-03-30', spent: 500, complete: true },
        today: { date: '2026-03-31', spent: 600, complete: false },
        month: { key: '2026-03', spent: 400 + 500 + 600 },
      },
      {
        // 22:30 UTC on March 31 is 01:30 on April 1 in Moscow.
        title: 'run already tomorrow in Moscow',
        runAt: '2026-03-31T22:30:00Z',
        buckets: { '2026-03-30': 500, '2026-03-31': 600 },
        yesterday: { date: '2026-03-30', spent: 500, complete: true },
        today: { date: '2026-03-31', spent: 600, complete: false },
        month: { key: '2026-03', spent: 500 + 600 },
      },
      {
        title: 'run exactly at midnight UTC',
        runAt: '2026-04-01T00:00:00Z',
        buckets: { '2026-03-31': 600, '2026-04-01': 7 },
        yesterday: { date: '2026-03-31', spent: 600, complete: true },
        today: { date: '2026-04-01', spent: 7, complete: false },
        month: { key: '2026-04', spent: 7 },
      },
      {
        title: 'run on New Year night',
        runAt: '2026-01-01T00:30:00Z',
        buckets: { '2025-12-31': 800, '2026-01-01': 20 },
        yesterday: { date: '2025-12-31', spent: 800, complete: true },
        today: { date: '2026-01-01', spent: 20, complete: false },
        month: { key: '2026-01', spent: 20 },
      },
      {
        title: 'yesterday without its bucket',
        runAt: '2026-03-10T12:00:00Z',
        buckets: { '2026-03-08': 100, '2026-03-10': 50 },
        yesterday: { date: '2026-03-09', spent: 0, complete: false },
        today: { date: '2026-03-10', spent: 50, complete: false },
        month: { key: '2026-03', spent: 100 + 50 },
      },
      {
        title: 'run on February 28',
        runAt: '2026-02-28T23:59:59Z',
        buckets: { '2026-01-31': 900, '2026-02-27': 30, '2026-02-28': 40 },
        yesterday: { date: '2026-02-27', spent: 30, complete: true },
        today: { date: '2026-02-28', spent: 40, complete: false },
        month: { key: '2026-02', spent: 30 + 40 },
      },
    ]),
  )('%s', (_title, { runAt, buckets, yesterday, today, month }) => {
    const sources = [ok(daily(buckets))];

    const spend = spendAt({ runAt, sources });

    expect(spend.dataStatus).toBe('ok');
    expect(spend.days[0].date).toBe(yesterday.date);
    expect(spend.days[0].spentKopecks).toBe(yesterday.spent);
    expect(spend.days[0].complete).toBe(yesterday.complete);
    expect(spend.days[1].date).toBe(today.date);
    expect(spend.days[1].spentKopecks).toBe(today.spent);
    expect(spend.days[1].complete).toBe(today.complete);
    expect(spend.month.month).toBe(month.key);
    expect(spend.month.spentKopecks).toBe(month.spent);
  });

  it('ignores buckets of another granularity', () => {
    const sources = [
      ok([
        ...daily({ '2026-03-09': 100, '2026-03-10': 50 }),
        ...hours('2026-03-10T00:00:00Z', '2026-03-10T06:00:00Z', OUTSIDE),
      ]),
    ];

    const spend = spendAt({ runAt: '2026-03-10T12:00:00Z', sources });

    expect(spend.days[1].spentKopecks).toBe(50);
    expect(spend.days[1].buckets).toBe(1);
    expect(spend.month.spentKopecks).toBe(150);
  });

  it('ignores buckets that start after the run', () => {
    const sources = [ok(daily({ '2026-03-10': 50, '2026-03-11': OUTSIDE }))];

    const spend = spendAt({ runAt: '2026-03-10T12:00:00Z', sources });

    expect(spend.days[1].spentKopecks).toBe(50);
    expect(spend.month.spentKopecks).toBe(50);
    expect(spend.newestBucketMs).toBe(ms('2026-03-10T00:00:00Z'));
  });
});

describe('evaluateSpend with hourly buckets in Moscow', () => {
  // Moscow is UTC+3 all year: the local day D runs from 21:00 UTC on D-1.
  it('sums local days from 21:00 UTC', () => {
    const sources = [
      ok([
        // 23:00 MSK on March 9: the previous local day.
        ...hours('2026-03-09T20:00:00Z', '2026-03-09T21:00:00Z', OUTSIDE),
        // March 10 MSK: 24 hours of 1 ruble.
        ...hours('2026-03-09T21:00:00Z', '2026-03-10T21:00:00Z', 100),
        // The hours starting 00:00 to 03:00 MSK on March 11.
        ...hours('2026-03-10T21:00:00Z', '2026-03-11T01:00:00Z', 10),
      ]),
    ];

    const spend = spendAt({
      runAt: '2026-03-11T00:30:00Z',
      granularitySeconds: HOURLY,
      sources,
    });

    expect(spend.days[0]).toEqual({
      date: '2026-03-10',
      startMs: ms('2026-03-09T21:00:00Z'),
      endMs: ms('2026-03-10T21:00:00Z'),
      spentKopecks: 24 * 100,
      complete: true,
      buckets: 24,
    });
    expect(spend.days[1].date).toBe('2026-03-11');
    expect(spend.days[1].spentKopecks).toBe(4 * 10);
    expect(spend.days[1].complete).toBe(false);
    // All of it is March in Moscow, the 23:00 MSK hour of March 9 included.
    expect(spend.month.spentKopecks).toBe(OUTSIDE + 24 * 100 + 4 * 10);
  });

  it('starts the month at 21:00 UTC the day before', () => {
    // 21:30 UTC on March 31 is 00:30 MSK on April 1.
    const sources = [
      ok([
        ...hours('2026-03-31T20:00:00Z', '2026-03-31T21:00:00Z', 5000),
        ...hours('2026-03-31T21:00:00Z', '2026-03-31T22:00:00Z', 70),
      ]),
    ];

    const spend = spendAt({
      runAt: '2026-03-31T21:30:00Z',
      granularitySeconds: HOURLY,
      sources,
    });

    expect(spend.days[0].date).toBe('2026-03-31');
    expect(spend.days[0].spentKopecks).toBe(5000);
    expect(spend.days[1].date).toBe('2026-04-01');
    expect(spend.days[1].spentKopecks).toBe(70);
    expect(spend.month.month).toBe('2026-04');
    expect(spend.month.startMs).toBe(ms('2026-03-31T21:00:00Z'));
    expect(spend.month.spentKopecks).toBe(70);
    expect(spend.month.forecastKopecks).toBeNull();
  });

  it('counts a day with a gap in the middle', () => {
    const buckets = hours('2026-03-09T21:00:00Z', '2026-03-10T21:00:00Z', 100);
    const noon = ms('2026-03-10T09:00:00Z');
    const sources = [ok(buckets.filter((bucket) => bucket.startMs !== noon))];

    const spend = spendAt({
      runAt: '2026-03-11T00:30:00Z',
      granularitySeconds: HOURLY,
      sources,
    });

    expect(spend.days[0].spentKopecks).toBe(23 * 100);
    expect(spend.days[0].buckets).toBe(23);
    expect(spend.days[0].complete).toBe(true);
  });

  it('ignores daily buckets in an hourly run', () => {
    const sources = [
      ok([
        ...daily({ '2026-03-10': OUTSIDE }),
        ...hours('2026-03-10T06:00:00Z', '2026-03-10T08:00:00Z', 100),
      ]),
    ];

    const spend = spendAt({
      runAt: '2026-03-10T08:30:00Z',
      granularitySeconds: HOURLY,
      sources,
    });

    expect(spend.days[1].spentKopecks).toBe(2 * 100);
  });
});

describe('evaluateSpend across daylight saving time', () => {
  it.each(['Europe/Berlin', 'America/New_York'])(
    'finds two changeovers in %s',
    (zone) => {
      const dates = changeoverDates(zone);

      expect(dates).toHaveLength(2);
      // Both zones change on a Sunday.
      for (const date of dates) {
        expect(new Date(`${date}T00:00:00Z`).getUTCDay()).toBe(0);
      }
    },
  );

  // The first changeover of the year springs forward, the second falls back.
  it.each([
    [23, 'Europe/Berlin', 0],
    [25, 'Europe/Berlin', 1],
    [23, 'America/New_York', 0],
    [25, 'America/New_York', 1],
  ] as const)('sums a %i-hour day in %s', (hoursLong, zone, changeover) => {
    const date = changeoverDates(zone)[changeover] as string;
    const startMs = localMidnightMs(zone, date);
    const nextDate = localDate(zone, startMs + 30 * HOUR_MS);
    const endMs = localMidnightMs(zone, nextDate);
    const iso = (atMs: number) => new Date(atMs).toISOString();
    const sources = [
      ok([
        ...hours(iso(startMs - 3 * HOUR_MS), iso(startMs), OUTSIDE),
        ...hours(iso(startMs), iso(endMs), 100),
        ...hours(iso(endMs), iso(endMs + 3 * HOUR_MS), OUTSIDE),
      ]),
    ];

    const spend = spendAt({
      runAt: iso(endMs + 30 * 60_000),
      granularitySeconds: HOURLY,
      timezone: zone,
      sources,
    });

    expect((endMs - startMs) / HOUR_MS).toBe(hoursLong);
    expect(spend.days[0].date).toBe(date);
    expect(spend.days[0].startMs).toBe(startMs);
    expect(spend.days[0].endMs).toBe(endMs);
    expect(spend.days[0].buckets).toBe(hoursLong);
    expect(spend.days[0].spentKopecks).toBe(hoursLong * 100);
    expect(spend.days[0].complete).toBe(true);
  });
});

describe('evaluateSpend completeness', () => {
  // The local day March 10 in Moscow: 21:00 UTC March 9 to 21:00 UTC March 10.
  const fullDay = hours('2026-03-09T21:00:00Z', '2026-03-10T21:00:00Z', 100);
  const without = (iso: string) =>
    fullDay.filter((bucket) => bucket.startMs !== ms(iso));

  it.each(
    titled([
      {
        title: 'day past its end, all buckets',
        runAt: '2026-03-10T21:30:00Z',
        buckets: fullDay,
        index: 0,
        complete: true,
      },
      {
        title: 'run exactly at the day end',
        runAt: '2026-03-10T21:00:00Z',
        buckets: fullDay,
        index: 0,
        complete: true,
      },
      {
        title: 'last bucket of the day missing',
        runAt: '2026-03-10T21:30:00Z',
        buckets: without('2026-03-10T20:00:00Z'),
        index: 0,
        complete: false,
      },
      {
        title: 'first bucket missing, last present',
        runAt: '2026-03-10T21:30:00Z',
        buckets: without('2026-03-09T21:00:00Z'),
        index: 0,
        complete: true,
      },
      {
        title: 'current day with its last bucket',
        runAt: '2026-03-10T20:30:00Z',
        buckets: fullDay,
        index: 1,
        complete: false,
      },
    ]),
  )('%s', (_title, { runAt, buckets, index, complete }) => {
    const spend = spendAt({
      runAt,
      granularitySeconds: HOURLY,
      sources: [ok(buckets)],
    });

    expect(spend.days[index as 0 | 1].date).toBe('2026-03-10');
    expect(spend.days[index as 0 | 1].complete).toBe(complete);
  });
});

describe('evaluateSpend money', () => {
  it.each(
    titled([
      {
        // 33333.333333333336 is the double nearest to 100000/3.
        title: 'three thirds make a whole ruble limit',
        values: [33333.333333333336, 33333.333333333336, 33333.333333333336],
        monthKopecks: 100_000,
        level: 'warn',
      },
      {
        title: 'one kopeck over the limit',
        values: [33333.333333333336, 33333.333333333336, 33333.333333333336, 1],
        monthKopecks: 100_001,
        level: 'over',
      },
      {
        // 86.33333333333333 is from Selectel's own sample: 3 x 86 1/3 = 259.
        title: "Selectel's sample value three times",
        values: [86.33333333333333, 86.33333333333333, 86.33333333333333],
        monthKopecks: 259,
        level: 'ok',
      },
      {
        // 1.5 kopecks round once, half away from zero, to 2. Rounding each
        // bucket first would give 3.
        title: 'half kopecks rounded once',
        values: [0.5, 0.5, 0.5],
        monthKopecks: 2,
        level: 'ok',
      },
      {
        title: 'small fractions rounded once',
        values: [0.4, 0.4, 0.4],
        monthKopecks: 1,
        level: 'ok',
      },
    ]),
  )('%s', (_title, { values, monthKopecks, level }) => {
    const sources = [ok(series('2026-03-01T00:00:00Z', DAILY, values))];
    // A monthly limit of 1000 rubles, warning at 0.8, cut at 1.2.
    const limitKopecks = toKopecks(1000);

    const spend = spendAt({ runAt: '2026-03-04T12:00:00Z', sources });
    const reached = levelFor(
      spend.month.spentKopecks,
      limitKopecks,
      8000,
      12_000,
    );

    expect(spend.month.spentKopecks).toBe(monthKopecks);
    expect(reached).toBe(level);
  });

  it('rounds each day apart from the month', () => {
    const sources = [
      ok(series('2026-03-02T00:00:00Z', DAILY, [86.33333333333333, 0.5])),
    ];

    const spend = spendAt({ runAt: '2026-03-03T12:00:00Z', sources });

    expect(spend.days[0].spentKopecks).toBe(86);
    expect(spend.days[1].spentKopecks).toBe(1);
    // 86.333... + 0.5 = 86.833..., rounded once.
    expect(spend.month.spentKopecks).toBe(87);
  });

  it('sums every source', () => {
    const sources: SourceSeries[] = [
      ok(daily({ '2026-03-09': 100, '2026-03-10': 30 })),
      { kind: 'absent' },
      ok(daily({ '2026-03-09': 250.5, '2026-03-10': 0.5 })),
      { kind: 'missing_metric' },
    ];

    const spend = spendAt({ runAt: '2026-03-10T12:00:00Z', sources });

    expect(spend.dataStatus).toBe('ok');
    // 100 + 250.5 = 350.5 and 30 + 0.5 = 30.5, half away from zero.
    expect(spend.days[0].spentKopecks).toBe(351);
    expect(spend.days[1].spentKopecks).toBe(31);
    expect(spend.month.spentKopecks).toBe(100 + 30 + 250.5 + 0.5);
  });
});

interface StatusCase {
  title: string;
  sources: SourceSeries[];
  status: string;
  reason: string | null;
}

describe('evaluateSpend data status', () => {
  const recent = daily({ '2026-03-09': 100, '2026-03-10': 50 });
  const runAt = '2026-03-10T12:00:00Z';
  const cases: StatusCase[] = [
    {
      title: 'empty series is no_data',
      sources: [ok([])],
      status: 'no_data',
      reason: 'the cost series is empty',
    },
    {
      title: 'missing metric is no_data',
      sources: [{ kind: 'missing_metric' }],
      status: 'no_data',
      reason: 'the cost metric is missing',
    },
    {
      title: 'project absent everywhere is no_data',
      sources: [{ kind: 'absent' }, { kind: 'missing_metric' }],
      status: 'no_data',
      reason: 'the cost metric is missing',
    },
    {
      title: 'no sources at all is no_data',
      sources: [],
      status: 'no_data',
      reason: 'the cost metric is missing',
    },
    {
      title: 'only other granularities is no_data',
      sources: [ok(hours('2026-03-10T00:00:00Z', runAt, 100))],
      status: 'no_data',
      reason: 'the cost series is empty',
    },
    {
      title: 'failed source beside data is error',
      sources: [ok(recent), { kind: 'error', message: 'HTTP 503 from ru-3' }],
      status: 'error',
      reason: 'HTTP 503 from ru-3',
    },
    {
      title: 'failed source beside nothing is error',
      sources: [{ kind: 'error', message: 'timed out' }, { kind: 'absent' }],
      status: 'error',
      reason: 'timed out',
    },
    {
      title: 'failed source beside stale data is error',
      sources: [
        ok(daily({ '2026-03-01': 100 })),
        { kind: 'error', message: 'HTTP 500' },
      ],
      status: 'error',
      reason: 'HTTP 500',
    },
    {
      title: 'one source with data is ok',
      sources: [{ kind: 'absent' }, ok(recent)],
      status: 'ok',
      reason: null,
    },
  ];

  it.each(titled(cases))('%s', (_title, { sources, status, reason }) => {
    const spend = spendAt({ runAt, sources });

    expect(spend.dataStatus).toBe(status);
    expect(spend.reason).toBe(reason);
  });

  // Hourly buckets, the newest at 00:00 UTC on March 9, stale after 36 h.
  it.each(
    titled([
      {
        title: 'exactly 36 hours old is ok',
        runAt: '2026-03-10T12:00:00.000Z',
        status: 'ok',
        reason: null,
      },
      {
        title: '36 hours and 1 ms old is stale',
        runAt: '2026-03-10T12:00:00.001Z',
        status: 'stale',
        reason: 'the newest bucket started 36 h before the run',
      },
      {
        title: '54 hours old is stale',
        runAt: '2026-03-11T06:00:00.000Z',
        status: 'stale',
        reason: 'the newest bucket started 54 h before the run',
      },
    ]),
  )('%s', (_title, { runAt, status, reason }) => {
    const sources = [
      ok(hours('2026-03-08T00:00:00Z', '2026-03-09T01:00:00Z', 100)),
    ];

    const spend = spendAt({ runAt, granularitySeconds: HOURLY, sources });

    expect(spend.newestBucketMs).toBe(ms('2026-03-09T00:00:00Z'));
    expect(spend.dataStatus).toBe(status);
    expect(spend.reason).toBe(reason);
  });

  it('keeps stale daily data ok until 36 hours pass', () => {
    // At 23:59 UTC the day's bucket started almost 24 hours before.
    const sources = [ok(daily({ '2026-03-10': 50 }))];

    const spend = spendAt({ runAt: '2026-03-10T23:59:00Z', sources });

    expect(spend.dataStatus).toBe('ok');
  });
});

describe('evaluateSpend forecast', () => {
  // March 2026 has 31 days, so in UTC days it ends at 2026-04-01T00:00Z.
  it.each(
    titled([
      {
        title: 'null on the first day',
        runAt: '2026-03-01T12:00:00Z',
        buckets: { '2026-02-27': 1000, '2026-02-28': 1000, '2026-03-01': 10 },
        forecast: null,
      },
      {
        title: 'null on the second day',
        runAt: '2026-03-02T23:00:00Z',
        buckets: { '2026-03-01': 1000, '2026-03-02': 1000 },
        forecast: null,
      },
      {
        // Average (1000 + 3000) / 2 = 2000 over 28.75 days left: 57500.
        title: 'starts on the third day',
        runAt: '2026-03-03T06:00:00Z',
        buckets: { '2026-03-01': 1000, '2026-03-02': 3000, '2026-03-03': 200 },
        forecast: 1000 + 3000 + 200 + 57_500,
      },
      {
        // Today's 50000 is not a complete day: average 1000 over
        // 26 days and 1 hour left, 1000 * 26.041666... = 26041.67.
        title: 'leaves the current day out',
        runAt: '2026-03-05T23:00:00Z',
        buckets: {
          '2026-03-01': 1000,
          '2026-03-02': 1000,
          '2026-03-03': 1000,
          '2026-03-04': 1000,
          '2026-03-05': 50_000,
        },
        forecast: 4 * 1000 + 50_000 + 26_042,
      },
      {
        // Days 3 to 9 average 700. Days 1 and 2 are older than seven days.
        // 22 days left from 00:00 on the 10th: 700 * 22 = 15400.
        title: 'averages the last seven complete days',
        runAt: '2026-03-10T00:00:00Z',
        buckets: {
          '2026-03-01': 100_000,
          '2026-03-02': 100_000,
          '2026-03-03': 700,
          '2026-03-04': 700,
          '2026-03-05': 700,
          '2026-03-06': 700,
          '2026-03-07': 700,
          '2026-03-08': 700,
          '2026-03-09': 700,
        },
        forecast: 2 * 100_000 + 7 * 700 + 15_400,
      },
      {
        // March 3 has no bucket: average (600 + 900 + 300) / 3 = 600 over
        // 26.5 days left = 15900.
        title: 'skips an incomplete day',
        runAt: '2026-03-05T12:00:00Z',
        buckets: { '2026-03-01': 600, '2026-03-02': 900, '2026-03-04': 300 },
        forecast: 600 + 900 + 300 + 15_900,
      },
      {
        title: 'null without a complete day',
        runAt: '2026-03-05T12:00:00Z',
        buckets: { '2026-03-05': 100 },
        forecast: null,
      },
    ]),
  )('%s', (_title, { runAt, buckets, forecast }) => {
    const spend = spendAt({ runAt, sources: [ok(daily(buckets))] });

    expect(spend.month.forecastKopecks).toBe(forecast);
  });

  it.each(
    titled([
      {
        // 23:30 MSK on March 2: still the second local day.
        title: 'Moscow day 2 is null',
        runAt: '2026-03-02T20:30:00Z',
        forecast: null,
      },
      {
        // 00:30 MSK on March 3, still March 2 in UTC. Days 1 and 2 are 2400
        // each, today has one bucket of 100: MTD 4900. Days left until
        // 2026-03-31T21:00Z: 28 days 23.5 hours, 2400 * 28.979166... = 69550.
        title: 'Moscow day 3 starts before UTC',
        runAt: '2026-03-02T21:30:00Z',
        forecast: 4900 + 69_550,
      },
      {
        // 12:00 MSK on March 3: 12 buckets before the run today, MTD 6000,
        // 28.5 days left, 2400 * 28.5 = 68400.
        title: 'Moscow days averaged',
        runAt: '2026-03-03T09:00:00Z',
        forecast: 6000 + 68_400,
      },
    ]),
  )('%s', (_title, { runAt, forecast }) => {
    const sources = [ok(hours('2026-02-28T21:00:00Z', runAt, 100))];

    const spend = spendAt({ runAt, granularitySeconds: HOURLY, sources });

    expect(spend.month.forecastKopecks).toBe(forecast);
  });
});

describe('queryWindow', () => {
  it.each(
    titled([
      {
        title: 'UTC month start mid-month',
        runAt: '2026-03-15T10:00:00Z',
        granularity: DAILY,
        start: '2026-03-01T00:00:00Z',
      },
      {
        title: 'UTC yesterday on the 1st',
        runAt: '2026-03-01T00:30:00Z',
        granularity: DAILY,
        start: '2026-02-28T00:00:00Z',
      },
      {
        title: 'Moscow month start mid-month',
        runAt: '2026-03-15T10:00:00Z',
        granularity: HOURLY,
        start: '2026-02-28T21:00:00Z',
      },
      {
        // 00:30 MSK on April 1, so yesterday is March 31 MSK.
        title: 'Moscow yesterday on the 1st',
        runAt: '2026-03-31T21:30:00Z',
        granularity: HOURLY,
        start: '2026-03-30T21:00:00Z',
      },
    ]),
  )('starts at %s', (_title, { runAt, granularity, start }) => {
    const convention = dayConvention(granularity, 'Europe/Moscow');

    const window = queryWindow(ms(runAt), convention);

    expect(window.startMs).toBe(ms(start));
    expect(window.stopMs).toBe(ms(runAt));
  });
});

describe('calendar', () => {
  it.each([
    [DAILY, 'utc-days', 'UTC'],
    [HOURLY, 'local-days', 'Europe/Berlin'],
    [1800, 'local-days', 'Europe/Berlin'],
  ])('%i s buckets give %s', (granularity, kind, zone) => {
    const convention = dayConvention(granularity, 'Europe/Berlin');

    expect(convention).toEqual({
      kind,
      zone,
      timezone: 'Europe/Berlin',
      granularitySeconds: granularity,
    });
  });

  // 22:30 UTC on March 31 is 01:30 MSK on April 1.
  it.each(
    titled([
      {
        title: 'places a late UTC hour in UTC days',
        granularity: DAILY,
        at: '2026-03-31T22:30:00Z',
        day: ['2026-03-31', '2026-03-31T00:00:00Z', '2026-04-01T00:00:00Z'],
        month: ['2026-03', '2026-03-01T00:00:00Z', '2026-04-01T00:00:00Z'],
        dayOfMonth: 31,
      },
      {
        title: 'places a late UTC hour in Moscow days',
        granularity: HOURLY,
        at: '2026-03-31T22:30:00Z',
        day: ['2026-04-01', '2026-03-31T21:00:00Z', '2026-04-01T21:00:00Z'],
        month: ['2026-04', '2026-03-31T21:00:00Z', '2026-04-30T21:00:00Z'],
        dayOfMonth: 1,
      },
    ]),
  )(
    '%s',
    (_title, { granularity, at, day, month, dayOfMonth: expectedDay }) => {
      const convention = dayConvention(granularity, 'Europe/Moscow');

      const foundDay = dayOf(ms(at), convention);
      const foundMonth = monthOf(ms(at), convention);

      expect(foundDay).toEqual({
        key: day[0],
        startMs: ms(day[1] as string),
        endMs: ms(day[2] as string),
      });
      expect(foundMonth).toEqual({
        key: month[0],
        startMs: ms(month[1] as string),
        endMs: ms(month[2] as string),
      });
      expect(dayOfMonth(ms(at), convention)).toBe(expectedDay);
    },
  );

  it('steps back over a month end', () => {
    const convention = dayConvention(DAILY, 'Europe/Moscow');
    const first = dayOf(ms('2026-03-01T10:00:00Z'), convention);

    const before = previousDay(first, convention);

    expect(before.key).toBe('2026-02-28');
    expect(before.endMs - before.startMs).toBe(DAY_MS);
  });

  it.each(
    titled([
      {
        title: 'describes UTC days ending 03:00 MSK',
        granularity: DAILY,
        zone: 'Europe/Moscow',
        at: '2026-03-10T12:00:00Z',
        text: 'UTC days from daily buckets: a day ends at 03:00 Europe/Moscow',
      },
      {
        // New York is UTC-5 in January and UTC-4 in July.
        title: 'describes New York winter days',
        granularity: DAILY,
        zone: 'America/New_York',
        at: '2026-01-10T12:00:00Z',
        text: 'UTC days from daily buckets: a day ends at 19:00 America/New_York',
      },
      {
        title: 'describes New York summer days',
        granularity: DAILY,
        zone: 'America/New_York',
        at: '2026-07-10T12:00:00Z',
        text: 'UTC days from daily buckets: a day ends at 20:00 America/New_York',
      },
      {
        title: 'describes Berlin local days',
        granularity: HOURLY,
        zone: 'Europe/Berlin',
        at: '2026-07-10T12:00:00Z',
        text: 'local days in Europe/Berlin from hourly buckets',
      },
      {
        title: 'describes half-hour buckets',
        granularity: 1800,
        zone: 'Asia/Kolkata',
        at: '2026-07-10T12:00:00Z',
        text: 'local days in Asia/Kolkata from 30-minute buckets',
      },
    ]),
  )('%s', (_title, { granularity, zone, at, text }) => {
    const convention = dayConvention(granularity, zone);

    expect(describeConvention(convention, ms(at))).toBe(text);
  });
});
