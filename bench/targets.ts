import type { AccountResult, CheckRun } from './accounts.js';
import type { SimStats } from './sim-host.js';

/** Routes that read cost series. Every other route lists resources or signs in. */
const READ_ROUTES = ['gnocchi.aggregates', 'gnocchi.measures'];
const AUTH_ROUTES = ['resell.tokens', 'identity.tokens'];
const LISTING_ROUTES = [
  'resell.projects',
  'gnocchi.resources',
  'gnocchi.search',
];

/** The project's bar: at most this multiple of the latency-only time. */
export const LATENCY_FACTOR_LIMIT = 1.5;

export interface LatencyFloor {
  /** Requests that wait for the one before them: sign-in, listings, pages. */
  sequential: number;
  /** Cost reads, which run `concurrency` at a time. */
  parallel: number;
  concurrency: number;
  latencyMs: number;
  /** `(sequential + ceil(parallel / concurrency)) * latencyMs`. */
  floorMs: number;
}

/**
 * Computes the time that the injected latency alone takes for the requests
 * a run made. The check signs in, lists projects, finds the account resource and
 * pages through the project resources one request after another, then reads
 * costs with at most `concurrency` requests in flight. This is true for one
 * Gnocchi source, as in the benchmark. Several sources are read side by side.
 */
export function latencyFloor(
  sim: SimStats,
  concurrency: number,
  latencyMs: number,
): LatencyFloor {
  const parallel = countRoutes(sim, READ_ROUTES);
  const sequential = sim.total - parallel;
  const rounds = Math.ceil(parallel / concurrency);

  return {
    sequential,
    parallel,
    concurrency,
    latencyMs,
    floorMs: (sequential + rounds) * latencyMs,
  };
}

/** Requests beyond sign-in and listings, which must not exceed the projects. */
export function perProjectRequests(sim: SimStats): number {
  return sim.total - countRoutes(sim, [...AUTH_ROUTES, ...LISTING_ROUTES]);
}

export function countRoutes(sim: SimStats, routes: string[]): number {
  return routes.reduce((sum, route) => sum + (sim.byRoute[route] ?? 0), 0);
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  if (sorted.length % 2 === 1) return sorted[middle] as number;

  return ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** Finds the account's check runs at `granularity`, or undefined if none ran. */
export function checkRunsAt(
  account: AccountResult,
  granularity: number,
): CheckRun[] | undefined {
  return account.checks.find((entry) => entry.granularity === granularity)
    ?.runs;
}

/** Picks the run with the median wall time, so its other figures go together. */
export function medianRun(runs: CheckRun[]): CheckRun {
  const sorted = [...runs].sort((a, b) => a.check.wallMs - b.check.wallMs);
  const run = sorted[Math.floor((sorted.length - 1) / 2)];
  if (!run) throw new Error('no check run to summarize');

  return run;
}

export interface Verdict {
  name: string;
  pass: boolean;
  detail: string;
}

/** Memory growth between account sizes, from the median RSS increase. */
export interface GrowthStep {
  fromProjects: number;
  toProjects: number;
  fromDeltaBytes: number;
  toDeltaBytes: number;
  /** `toDeltaBytes / fromDeltaBytes`. */
  growth: number;
  /** `toProjects / fromProjects`: the largest growth that passes. */
  allowed: number;
}

/**
 * Compares the RSS increase of the check at one granularity across account
 * sizes. Memory passes when it grows no faster than the number of projects.
 */
export function memoryGrowth(
  accounts: AccountResult[],
  granularity: number,
): GrowthStep[] {
  const points = accounts
    .map((account) => {
      const runs = checkRunsAt(account, granularity);
      return runs
        ? {
            projects: account.projects,
            deltaBytes: median(
              runs.map((run) => run.check.memory.rssDeltaBytes),
            ),
          }
        : undefined;
    })
    .filter((point) => point !== undefined)
    .sort((a, b) => a.projects - b.projects);
  const steps: GrowthStep[] = [];
  for (let index = 1; index < points.length; index++) {
    const from = points[index - 1];
    const to = points[index];
    if (!from || !to) continue;
    steps.push({
      fromProjects: from.projects,
      toProjects: to.projects,
      fromDeltaBytes: from.deltaBytes,
      toDeltaBytes: to.deltaBytes,
      growth: to.deltaBytes / from.deltaBytes,
      allowed: to.projects / from.projects,
    });
  }

  return steps;
}
