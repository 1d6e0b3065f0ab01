import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  forecastLevel,
  LEVELS,
  type Level,
  levelFor,
  maxLevel,
} from '../../lib/costs/levels.js';
import {
  formatRubles,
  kopecksToRubles,
  microToKopecks,
  toMicroKopecks,
} from '../../lib/costs/money.js';

/** Warning at 0.8 and cut at 1.2 of the limit, in basis points. */
const WARN_080 = 8000;
const CUT_120 = 12_000;

describe('levelFor', () => {
  it.each([
    // [spent, limit, warn, cut, level], amounts in kopecks.
    [0, 100_000, WARN_080, CUT_120, 'ok'],
    [80_000, 100_000, WARN_080, CUT_120, 'ok'],
    [80_001, 100_000, WARN_080, CUT_120, 'warn'],
    [100_000, 100_000, WARN_080, CUT_120, 'warn'],
    [100_001, 100_000, WARN_080, CUT_120, 'over'],
    [120_000, 100_000, WARN_080, CUT_120, 'over'],
    [120_001, 100_000, WARN_080, CUT_120, 'cut'],
    [10_000_000, 100_000, WARN_080, CUT_120, 'cut'],
    // No cut fraction: never beyond over.
    [10_000_000, 100_000, WARN_080, null, 'over'],
    // Cut at 1.0: the first kopeck over cuts.
    [100_000, 100_000, WARN_080, 10_000, 'warn'],
    [100_001, 100_000, WARN_080, 10_000, 'cut'],
    // 0.8 of 333 kopecks is 266.4: 266 is under it, 267 over it.
    [266, 333, WARN_080, CUT_120, 'ok'],
    [267, 333, WARN_080, CUT_120, 'warn'],
    // A limit of zero: nothing spent is ok, one kopeck is over everything.
    [0, 0, WARN_080, CUT_120, 'ok'],
    [1, 0, WARN_080, CUT_120, 'cut'],
    // Warning at 0.5.
    [50_001, 100_000, 5000, null, 'warn'],
    // 1.0868 of 5 659 155 841 947 is 6 150 370 569 027.9996, so one more
    // kopeck cuts, although both products are 61 503 705 690 280 000 as
    // doubles.
    [6_150_370_569_028, 5_659_155_841_947, WARN_080, 10_868, 'cut'],
    [6_150_370_569_027, 5_659_155_841_947, WARN_080, 10_868, 'over'],
  ] as const)(
    'rates %i of %i (warn %i, cut %s) as %s',
    (spent, limit, warn, cut, level) => {
      expect(levelFor(spent, limit, warn, cut)).toBe(level);
    },
  );

  it.each([0, 1, 100_000, 1e13])('rates %i with no limit as ok', (spent) => {
    expect(levelFor(spent, null, WARN_080, CUT_120)).toBe('ok');
  });

  it('matches integer arithmetic on config ranges', () => {
    // The config accepts limits up to 100 000 000 000 rubles and fractions
    // up to 100. Spends are drawn within 3 kopecks of each threshold.
    const basisPoints = fc.integer({ min: 1, max: 1_000_000 });
    const input = fc
      .record({
        limit: fc.integer({ min: 0, max: 1e13 }),
        warn: basisPoints,
        cut: fc.option(basisPoints, { nil: null }),
        offset: fc.integer({ min: -3, max: 3 }),
        near: fc.constantFrom('warn', 'over', 'cut'),
      })
      .map(({ limit, warn, cut, offset, near }) => {
        const share = { warn, over: 10_000, cut: cut ?? 10_000 }[near];
        const threshold = Number((BigInt(limit) * BigInt(share)) / 10_000n);
        const spent = Math.max(0, threshold + offset);

        return { spent, limit, warn, cut };
      });

    fc.assert(
      fc.property(input, ({ spent, limit, warn, cut }) => {
        expect(levelFor(spent, limit, warn, cut)).toBe(
          exactLevel(spent, limit, warn, cut),
        );
      }),
      { numRuns: 2000 },
    );
  });
});

/** Computes the level with BigInt arithmetic, as a reference for levelFor. */
function exactLevel(
  spent: number,
  limit: number,
  warn: number,
  cut: number | null,
): Level {
  const reached = (basisPoints: number) =>
    BigInt(spent) * 10_000n > BigInt(limit) * BigInt(basisPoints);
  if (cut !== null && reached(cut)) return 'cut';
  if (reached(10_000)) return 'over';
  if (reached(warn)) return 'warn';

  return 'ok';
}

describe('forecastLevel', () => {
  it.each([
    [null, 100_000, 'ok'],
    [5_000_000, null, 'ok'],
    [null, null, 'ok'],
    [99_999, 100_000, 'ok'],
    [100_000, 100_000, 'ok'],
    [100_001, 100_000, 'warn'],
    // Three times the limit still only warns: a forecast never cuts.
    [300_000, 100_000, 'warn'],
  ] as const)('rates forecast %s of %s as %s', (forecast, limit, level) => {
    expect(forecastLevel(forecast, limit)).toBe(level);
  });
});

describe('maxLevel', () => {
  it.each([
    [[], 'ok'],
    [['ok', 'ok'], 'ok'],
    [['warn', 'ok'], 'warn'],
    [['ok', 'over', 'warn'], 'over'],
    [['cut', 'over', 'warn', 'ok'], 'cut'],
  ] as const)('picks from %j the level %s', (levels, level) => {
    expect(maxLevel(levels)).toBe(level);
  });

  it('reads any iterable', () => {
    function* levels(): Generator<Level> {
      yield 'warn';
      yield 'cut';
      yield 'ok';
    }

    expect(maxLevel(levels())).toBe('cut');
    expect(maxLevel(new Set<Level>(['over', 'warn']))).toBe('over');
  });

  it('orders levels ok, warn, over, cut', () => {
    expect(LEVELS).toEqual(['ok', 'warn', 'over', 'cut']);
  });
});

describe('toMicroKopecks', () => {
  it.each([
    [0, 0n],
    [1, 1_000_000n],
    // Selectel's own sample value.
    [86.33333333333333, 86_333_333n],
    // The double nearest to 100000 / 3.
    [33333.333333333336, 33_333_333_333n],
    [0.5, 500_000n],
    [-1.5, -1_500_000n],
    // Below a micro-kopeck: rounds to nothing.
    [1e-7, 0n],
  ])('converts %d kopecks to %s micro', (kopecks, micro) => {
    expect(toMicroKopecks(kopecks)).toBe(micro);
  });
});

describe('microToKopecks', () => {
  it.each([
    [0n, 0],
    [499_999n, 0],
    [500_000n, 1],
    [1_499_999n, 1],
    [1_500_000n, 2],
    // Half away from zero, not to even: 2.5 becomes 3.
    [2_500_000n, 3],
    [-499_999n, 0],
    [-500_000n, -1],
    [-1_499_999n, -1],
    [-1_500_000n, -2],
    [-2_500_000n, -3],
    // 3 x 33333333333 micro-kopecks: 99999.999999 rounds to 100000.
    [99_999_999_999n, 100_000],
    // One billion rubles of micro-kopecks, beyond 2^53 as a number.
    [100_000_000_000_000_000n, 100_000_000_000],
  ])('rounds %s micro to %i kopecks', (micro, kopecks) => {
    expect(microToKopecks(micro)).toBe(kopecks);
  });
});

describe('formatRubles', () => {
  it.each([
    [0, '0.00'],
    [5, '0.05'],
    [100, '1.00'],
    [99_999, '999.99'],
    [100_000, '1 000.00'],
    [1_234_560, '12 345.60'],
    [123_456_789, '1 234 567.89'],
    [100_000_000_000, '1 000 000 000.00'],
    [-5, '-0.05'],
    [-1_234_560, '-12 345.60'],
  ])('formats %i kopecks as "%s"', (kopecks, text) => {
    expect(formatRubles(kopecks)).toBe(text);
  });
});

describe('kopecksToRubles', () => {
  it.each([
    [0, 0],
    [1, 0.01],
    [12_345, 123.45],
    [100_000, 1000],
    [-250, -2.5],
  ])('converts %i kopecks to %d rubles', (kopecks, rubles) => {
    expect(kopecksToRubles(kopecks)).toBe(rubles);
  });
});
