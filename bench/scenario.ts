import type { ConfigInput } from '../lib/config/schema.js';
import type { ScenarioInput } from '../sim/scenario.js';
import type { SimEndpoints } from '../sim/server.js';

/** Timezone of the benchmark config, as in the project's defaults. */
export const BENCH_TIMEZONE = 'Europe/Moscow';
/** Moscow has kept UTC+3 all year since 2014. */
const MOSCOW_OFFSET_MS = 3 * 3_600_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** Every `HOT_EVERY`-th project spends four times as much, so it crosses levels. */
const HOT_EVERY = 100;
const KOPECKS_PER_HOUR = 1_000;
const HOT_KOPECKS_PER_HOUR = 4_000;

/** Budgets in rubles: 10 RUB an hour stays `ok`, 40 RUB an hour does not. */
const DAILY_RUBLES = 1_000;
const MONTHLY_RUBLES = 40_000;

/**
 * Returns the instant the benchmark evaluates: 23:30 Moscow time on the last
 * day of the current Moscow month. The month-to-date read then covers the whole
 * month, so the figures are the largest reads of the month and do not
 * change with the day the benchmark runs.
 */
export function endOfMonthRunAt(nowMs: number): number {
  const moscow = new Date(nowMs + MOSCOW_OFFSET_MS);
  const nextMonthUtcMs = Date.UTC(
    moscow.getUTCFullYear(),
    moscow.getUTCMonth() + 1,
    1,
  );

  return nextMonthUtcMs - MOSCOW_OFFSET_MS - 30 * 60_000;
}

/** Names `p00000`, `p00001`, … so listings sort the same way everywhere. */
export function projectName(index: number): string {
  return `p${String(index).padStart(5, '0')}`;
}

export function isHotProject(index: number): boolean {
  return index % HOT_EVERY === 0;
}

/**
 * Builds a simulated account of `projectCount` projects, each with hourly costs
 * from two days before the Moscow month of `runAtMs` up to `runAtMs`, and
 * `latencyMs` added to every request.
 */
export function benchScenario(
  projectCount: number,
  runAtMs: number,
  latencyMs: number,
): ScenarioInput {
  const moscowMonthStartMs = moscowMonthStart(runAtMs);
  const from = new Date(moscowMonthStartMs - 2 * DAY_MS).toISOString();
  const to = new Date(Math.ceil(runAtMs / HOUR_MS) * HOUR_MS).toISOString();
  const projects = Array.from({ length: projectCount }, (_, index) => ({
    name: projectName(index),
    costs: {
      generate: {
        from,
        to,
        kopecksPerHour: isHotProject(index)
          ? HOT_KOPECKS_PER_HOUR
          : KOPECKS_PER_HOUR,
      },
    },
  }));
  const faults =
    latencyMs > 0 ? [{ route: '*' as const, latencyMs: latencyMs }] : [];

  return { projects, faults };
}

/**
 * Builds the config of a check against the simulator. Every project is
 * listed by name, so no project falls back to the defaults. The concurrency,
 * batch size and page size keep the config's default values.
 */
export function benchConfig(
  account: string,
  endpoints: SimEndpoints,
  projectCount: number,
  granularitySeconds: 3600 | 86_400,
): ConfigInput {
  const projects: Record<string, object> = {};
  for (let index = 0; index < projectCount; index++) {
    projects[projectName(index)] = {};
  }

  return {
    account,
    timezone: BENCH_TIMEZONE,
    endpoints: {
      resell: endpoints.resell,
      identity: endpoints.identity,
      gnocchi: endpoints.gnocchi,
      quotaManager: endpoints.quotaManager,
    },
    costs: {
      metric: 'vpc.project.full.cost',
      granularity: granularitySeconds,
      aggregation: 'max',
      staleAfterHours: 36,
    },
    budgets: {
      default: { daily: DAILY_RUBLES, monthly: MONTHLY_RUBLES, warnAt: 0.8 },
      projects,
    },
  };
}

function moscowMonthStart(atMs: number): number {
  const moscow = new Date(atMs + MOSCOW_OFFSET_MS);

  return (
    Date.UTC(moscow.getUTCFullYear(), moscow.getUTCMonth(), 1) -
    MOSCOW_OFFSET_MS
  );
}
