/**
 * Money as integers. Selectel reports fractional kopecks, so bucket values
 * are summed as integer micro-kopecks (BigInt, exact for any account size)
 * and rounded once, half away from zero, to whole kopecks for comparison
 * and display.
 */

const MICRO_PER_KOPECK = 1_000_000n;

/** Converts one bucket value in kopecks to micro-kopecks. */
export function toMicroKopecks(kopecks: number): bigint {
  return BigInt(Math.round(kopecks * 1_000_000));
}

/** Rounds micro-kopecks to whole kopecks, half away from zero. */
export function microToKopecks(micro: bigint): number {
  const half = MICRO_PER_KOPECK / 2n;
  const rounded =
    micro >= 0n
      ? (micro + half) / MICRO_PER_KOPECK
      : -((-micro + half) / MICRO_PER_KOPECK);

  return Number(rounded);
}

/** Rubles with two decimals as a number, for JSON output. */
export function kopecksToRubles(kopecks: number): number {
  return kopecks / 100;
}

/** Formats kopecks as rubles with two decimals and thin grouping: `12 345.60`. */
export function formatRubles(kopecks: number): string {
  const sign = kopecks < 0 ? '-' : '';
  const absolute = Math.abs(kopecks);
  const whole = Math.floor(absolute / 100)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
  const fraction = String(absolute % 100).padStart(2, '0');

  return `${sign}${whole}.${fraction}`;
}
