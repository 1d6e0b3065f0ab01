/** Budget levels in rising order. */
export const LEVELS = ['ok', 'warn', 'over', 'cut'] as const;
export type Level = (typeof LEVELS)[number];

const FULL_BASIS_POINTS = 10_000;

export function levelRank(level: Level): number {
  return LEVELS.indexOf(level);
}

export function maxLevel(levels: Iterable<Level>): Level {
  let highest: Level = 'ok';
  for (const level of levels) {
    if (levelRank(level) > levelRank(highest)) highest = level;
  }

  return highest;
}

/**
 * Level of a spend against a limit. A level is reached when the spend is
 * strictly greater than its share of the limit. The comparison multiplies
 * instead of dividing, in BigInt because the products of large limits pass
 * 2^53. Amounts and basis points must be integers.
 */
export function levelFor(
  spentKopecks: number,
  limitKopecks: number | null,
  warnBasisPoints: number,
  cutBasisPoints: number | null,
): Level {
  if (limitKopecks === null) return 'ok';
  const reached = (basisPoints: number) =>
    BigInt(spentKopecks) * BigInt(FULL_BASIS_POINTS) >
    BigInt(limitKopecks) * BigInt(basisPoints);
  const levels: Level[] = [];
  if (reached(warnBasisPoints)) levels.push('warn');
  if (reached(FULL_BASIS_POINTS)) levels.push('over');
  if (cutBasisPoints !== null && reached(cutBasisPoints)) levels.push('cut');

  return maxLevel(levels);
}

/** Level of a month forecast: `warn` when it passes the limit, never higher. */
export function forecastLevel(
  forecastKopecks: number | null,
  limitKopecks: number | null,
): Level {
  if (forecastKopecks === null || limitKopecks === null) return 'ok';

  return forecastKopecks > limitKopecks ? 'warn' : 'ok';
}
