import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { CheckChildInput, CheckChildResult } from './check-child.js';
import { ChildServer, runChild } from './ipc.js';
import type { NaiveChildInput, NaiveChildResult } from './naive-child.js';
import { benchConfig } from './scenario.js';
import type { SimHostInput, SimHostReady, SimStats } from './sim-host.js';

export type Granularity = 3600 | 86_400;

/** One account size and what to run against it. */
export interface AccountPlan {
  projects: number;
  granularities: Granularity[];
  /** Run the naive baseline at the first granularity. */
  naive: boolean;
}

export interface CheckRun {
  check: CheckChildResult;
  sim: SimStats;
}

export interface NaiveRun {
  naive: NaiveChildResult;
  sim: SimStats;
}

export interface AccountResult {
  projects: number;
  simSetupMs: number;
  checks: { granularity: Granularity; runs: CheckRun[] }[];
  naive: { granularity: Granularity; run: NaiveRun } | null;
}

export interface AccountOptions {
  runAtMs: number;
  latencyMs: number;
  repeats: number;
  /** Folder for each run's state. A RAM disk keeps disk writes out of the figures. */
  stateRoot: string;
  /** Node options of each check process, such as `--cpu-prof`. */
  checkExecArgv: string[];
  progress: (line: string) => void;
}

/**
 * Starts a simulator for one account size in its own process, then runs
 * each check and the naive baseline in fresh processes against it, reading
 * the simulator's request counts after each run.
 */
export async function measureAccount(
  plan: AccountPlan,
  options: AccountOptions,
): Promise<AccountResult> {
  const hostInput: SimHostInput = {
    projects: plan.projects,
    runAtMs: options.runAtMs,
    latencyMs: options.latencyMs,
  };
  const { server, ready } = await ChildServer.start<SimHostReady>(
    'sim-host',
    hostInput,
  );
  try {
    const checks: AccountResult['checks'] = [];
    for (const granularity of plan.granularities) {
      const runs: CheckRun[] = [];
      for (let repeat = 1; repeat <= options.repeats; repeat++) {
        options.progress(
          `check: ${plan.projects} projects, ${granularity} s, run ${repeat} of ${options.repeats}`,
        );
        runs.push(
          await measureCheck(server, ready, plan, granularity, options),
        );
      }
      checks.push({ granularity, runs });
    }
    let naive: AccountResult['naive'] = null;
    const granularity = plan.granularities[0];
    if (plan.naive && granularity) {
      options.progress(
        `naive baseline: ${plan.projects} projects, ${granularity} s`,
      );
      naive = {
        granularity,
        run: await measureNaive(server, ready, granularity, options),
      };
    }

    return {
      projects: plan.projects,
      simSetupMs: ready.setupMs,
      checks,
      naive,
    };
  } finally {
    await server.close();
  }
}

async function measureCheck(
  server: ChildServer,
  ready: SimHostReady,
  plan: AccountPlan,
  granularity: Granularity,
  options: AccountOptions,
): Promise<CheckRun> {
  const workDir = await mkdtemp(join(options.stateRoot, 'budget-guard-bench-'));
  try {
    await server.request('reset');
    const input: CheckChildInput = {
      // The YAML file that `budget-guard check` reads.
      configText: stringify(
        benchConfig(ready.account, ready.endpoints, plan.projects, granularity),
      ),
      workDir,
      apiKey: ready.apiKey,
      runAtMs: options.runAtMs,
    };
    const check = await runChild<CheckChildResult>(
      'check-child',
      input,
      options.checkExecArgv,
    );
    const sim = await server.request<SimStats>('stats');

    return { check, sim };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

async function measureNaive(
  server: ChildServer,
  ready: SimHostReady,
  granularity: Granularity,
  options: AccountOptions,
): Promise<NaiveRun> {
  await server.request('reset');
  const input: NaiveChildInput = {
    endpoints: ready.endpoints,
    account: ready.account,
    apiKey: ready.apiKey,
    runAtMs: options.runAtMs,
    granularitySeconds: granularity,
    metric: 'vpc.project.full.cost',
  };
  const naive = await runChild<NaiveChildResult>('naive-child', input);
  const sim = await server.request<SimStats>('stats');

  return { naive, sim };
}

/** Picks the folder for run state: /dev/shm when the machine has it. */
export async function stateRoot(): Promise<string> {
  try {
    const probe = await mkdtemp('/dev/shm/budget-guard-bench-probe-');
    await rm(probe, { recursive: true, force: true });
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
}
