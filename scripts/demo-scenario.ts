import type { ScenarioInput } from '../sim/scenario.js';

const HOUR_MS = 3_600_000;

/** Moscow is UTC+3 all year, so a local midnight is 21:00 UTC. */
const MOSCOW_OFFSET_MS = 3 * HOUR_MS;

/** Names of the demo projects, by the role each plays. */
export const DEMO_PROJECTS = {
  ok: 'web-shop',
  warn: 'analytics',
  overDaily: 'ml-training',
  cut: 'gpu-sandbox',
  overMonthly: 'marketing',
  noData: 'legacy-vpn',
  stale: 'staging',
  protected: 'prod',
  cyrillic: 'Тестовый стенд отдела разработки платёжных сервисов',
  unlisted: 'новый-проект',
} as const;

/**
 * The instant the demo evaluates: 12:00 UTC (15:00 in Moscow) of today, or
 * of yesterday before that hour, so the amounts and levels are the same
 * whatever time the demo runs.
 */
export function demoRunAt(nowMs: number): number {
  const today = new Date(nowMs);
  const noon = Date.UTC(
    today.getUTCFullYear(),
    today.getUTCMonth(),
    today.getUTCDate(),
    12,
  );

  return noon <= nowMs ? noon : noon - 24 * HOUR_MS;
}

/**
 * A realistic account of ten projects whose hourly costs put each one in a
 * different state at `runAtMs`: under budget, warning, over its daily or
 * monthly budget, over its cut level, without data, with stale data,
 * protected, with a long Cyrillic name, and missing from the config.
 */
export function demoScenario(runAtMs: number): ScenarioInput {
  const iso = (ms: number) => new Date(ms).toISOString();
  const todayStart = localDayStart(runAtMs);
  const monthStart = localMonthStart(runAtMs);
  const history =
    Math.min(monthStart, todayStart - 24 * HOUR_MS) - 48 * HOUR_MS;
  const steady = (kopecksPerHour: number, from = history, to = runAtMs) => ({
    generate: { from: iso(from), to: iso(to), kopecksPerHour },
  });
  const twoRates = (before: number, today: number) => ({
    hourly: [
      ...hours(history, todayStart).map((at): [string, number] => [
        iso(at),
        before,
      ]),
      ...hours(todayStart, runAtMs).map((at): [string, number] => [
        iso(at),
        today,
      ]),
    ],
  });

  return {
    account: '123456',
    projects: [
      { name: DEMO_PROJECTS.ok, costs: steady(1_500) },
      { name: DEMO_PROJECTS.warn, costs: twoRates(2_000, 5_600) },
      { name: DEMO_PROJECTS.overDaily, costs: twoRates(1_250, 7_300) },
      {
        name: DEMO_PROJECTS.cut,
        costs: twoRates(800, 10_000),
        quotas: {
          'ru-1': {
            compute_cores: [
              { zone: 'ru-1a', value: 48, used: 32 },
              { zone: 'ru-1b', value: 16, used: 4 },
            ],
            compute_ram: [
              { zone: 'ru-1a', value: 196_608, used: 131_072 },
              { zone: 'ru-1b', value: 65_536, used: 16_384 },
            ],
            volume_gigabytes_fast: [
              { zone: 'ru-1a', value: 2_000, used: 1_200 },
            ],
            image_gigabytes: [{ value: 500, used: 120 }],
            network_floatingips: [{ value: 8, used: 3 }],
          },
          'ru-3': {
            compute_cores: [{ zone: 'ru-3a', value: 24, used: 8 }],
            compute_ram: [{ zone: 'ru-3a', value: 98_304, used: 32_768 }],
            network_floatingips: [{ value: 4, used: 1 }],
          },
        },
      },
      {
        name: DEMO_PROJECTS.overMonthly,
        costs: {
          hourly: [
            [iso(monthStart), 2_200_000],
            ...hours(monthStart + HOUR_MS, runAtMs).map(
              (at): [string, number] => [iso(at), 100],
            ),
          ],
        },
      },
      { name: DEMO_PROJECTS.noData, costs: { hourly: [] } },
      {
        name: DEMO_PROJECTS.stale,
        costs: steady(800, history, runAtMs - 48 * HOUR_MS),
      },
      {
        name: DEMO_PROJECTS.protected,
        costs: steady(9_000),
        quotas: {
          'ru-1': { compute_cores: [{ zone: 'ru-1a', value: 256, used: 200 }] },
        },
      },
      { name: DEMO_PROJECTS.cyrillic, costs: steady(1_000) },
      { name: DEMO_PROJECTS.unlisted, costs: steady(500) },
    ],
  };
}

/** Budgets of the demo, as the YAML a team would write. */
export function demoBudgets(): string {
  return `budgets:
  account: { monthly: 500000 }
  default: { daily: 1000, monthly: 20000, warnAt: 0.8, cutAt: 1.2, action: freeze, approval: auto }
  projects:
    ${DEMO_PROJECTS.ok}: {}
    ${DEMO_PROJECTS.warn}: {}
    ${DEMO_PROJECTS.overDaily}: {}
    ${DEMO_PROJECTS.cut}: {}
    ${DEMO_PROJECTS.overMonthly}: { daily: null }
    ${DEMO_PROJECTS.noData}: {}
    ${DEMO_PROJECTS.stale}: {}
    ${DEMO_PROJECTS.protected}: { monthly: 150000, action: none }
    "${DEMO_PROJECTS.cyrillic}": { daily: 500 }
`;
}

function localDayStart(ms: number): number {
  const local = ms + MOSCOW_OFFSET_MS;

  return local - (local % (24 * HOUR_MS)) - MOSCOW_OFFSET_MS;
}

function localMonthStart(ms: number): number {
  const local = new Date(ms + MOSCOW_OFFSET_MS);

  return (
    Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), 1) - MOSCOW_OFFSET_MS
  );
}

function hours(fromMs: number, toMs: number): number[] {
  const result: number[] = [];
  for (let at = Math.ceil(fromMs / HOUR_MS) * HOUR_MS; at < toMs; at += HOUR_MS)
    result.push(at);

  return result;
}
