/**
 * Runs `npm run bench`. It measures the budget check against the Selectel
 * simulator at three account sizes, next to a naive one-project-at-a-time
 * baseline, and the function bundles' sizes and cold starts. It prints a
 * Markdown report on stdout and progress on stderr. Targets are reported,
 * never enforced. The exit status is 1 when a measurement went wrong or the
 * benchmark failed, never because a target was missed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  type AccountPlan,
  type AccountResult,
  measureAccount,
  stateRoot,
} from './accounts.js';
import { buildBundles } from './bundle.js';
import { measureColdStarts } from './cold-start.js';
import { writeResults } from './doc.js';
import { describeMachine } from './machine.js';
import {
  type BenchReport,
  formatMs,
  measurementProblems,
  renderReport,
} from './report.js';
import { endOfMonthRunAt } from './scenario.js';

/** Markdown file whose results block each run rewrites. */
const RESULTS_FILE = 'docs/benchmarks.md';

/** Latency the simulator adds to every request. */
const LATENCY_MS = 20;

const USAGE = `usage: npm run bench -- [--sizes N,N,...] [--repeats N] [--cold-runs N] [--cpu-prof DIR]

Runs the budget check against the Selectel simulator with ${LATENCY_MS} ms added
to every request and prints a Markdown report. Build first: npm run build.
  --sizes N,N,...  account sizes in projects (default: 100,1000,5000)
  --repeats N      check runs per size up to 1000 projects (default: 3);
                   larger accounts run once to keep the benchmark short
  --cold-runs N    cold starts per function (default: 5)
  --cpu-prof DIR   write a V8 CPU profile of each check run into DIR
  --no-write       print the report only; by default it also replaces the
                   results block of docs/benchmarks.md`;

/** Accounts larger than this run the check once. */
const REPEATED_UP_TO_PROJECTS = 1000;
/** The size at which daily buckets are measured as well as hourly ones. */
const DAILY_BUCKETS_AT = 1000;

interface BenchOptions {
  sizes: number[];
  repeats: number;
  coldRuns: number;
  /** Node options of each check process. */
  checkExecArgv: string[];
  /** Rewrite the results block of the benchmarks page. */
  write: boolean;
}

async function main(): Promise<void> {
  const options = parseOptions();
  if (!options) return;
  const startedMs = performance.now();
  const loadAtStart = loadavg()[0] ?? 0;
  const runAtMs = endOfMonthRunAt(Date.now());
  const root = await stateRoot();
  const progress = (line: string) => {
    process.stderr.write(
      `[${formatMs(performance.now() - startedMs)}] ${line}\n`,
    );
  };

  const accounts = await measureAccounts(options, runAtMs, root, progress);

  progress('bundling the functions with esbuild');
  const bundleDir = await mkdtemp(join(tmpdir(), 'budget-guard-bundles-'));
  try {
    const bundles = await buildBundles(bundleDir);
    progress(`cold starts: ${options.coldRuns} runs of each function`);
    const coldStarts = await measureColdStarts(bundles, options.coldRuns, root);
    const report: BenchReport = {
      command: benchCommand(),
      machine: await describeMachine(),
      loadAverage: { start: loadAtStart, end: loadavg()[0] ?? 0 },
      runAtMs,
      latencyMs: LATENCY_MS,
      accounts,
      bundles,
      coldStarts,
      totalMs: performance.now() - startedMs,
    };
    const rendered = renderReport(report);
    console.log(rendered);
    if (options.write) {
      await writeResults(RESULTS_FILE, rendered);
      progress(`results written to ${RESULTS_FILE}`);
    }
    if (measurementProblems(report).length > 0) process.exitCode = 1;
  } finally {
    await rm(bundleDir, { recursive: true, force: true });
  }
}

/** Parses the command line, or prints the usage and returns undefined. */
function parseOptions(): BenchOptions | undefined {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '100,1000,5000' },
      repeats: { type: 'string', default: '3' },
      'cold-runs': { type: 'string', default: '5' },
      'cpu-prof': { type: 'string' },
      'no-write': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return undefined;
  }
  const profileDir = values['cpu-prof'];

  return {
    sizes: values.sizes.split(',').map((text) => positive(text, 'sizes')),
    repeats: positive(values.repeats, 'repeats'),
    coldRuns: positive(values['cold-runs'], 'cold-runs'),
    checkExecArgv: profileDir
      ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`]
      : [],
    write: values['no-write'] !== true,
  };
}

/** Measures each account size in turn: hourly buckets, daily ones at 1000. */
async function measureAccounts(
  options: BenchOptions,
  runAtMs: number,
  root: string,
  progress: (line: string) => void,
): Promise<AccountResult[]> {
  const accounts: AccountResult[] = [];
  for (const projects of options.sizes) {
    const plan: AccountPlan = {
      projects,
      granularities: projects === DAILY_BUCKETS_AT ? [3600, 86_400] : [3600],
      naive: true,
    };
    accounts.push(
      await measureAccount(plan, {
        runAtMs,
        latencyMs: LATENCY_MS,
        repeats: projects > REPEATED_UP_TO_PROJECTS ? 1 : options.repeats,
        stateRoot: root,
        checkExecArgv: options.checkExecArgv,
        progress,
      }),
    );
  }

  return accounts;
}

function benchCommand(): string {
  const args = process.argv.slice(2);

  return `npm run build && npm run bench${args.length > 0 ? ` -- ${args.join(' ')}` : ''}`;
}

function positive(text: string, option: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(
      `invalid --${option} ${JSON.stringify(text)}: give a whole number of 1 or more`,
    );
  }

  return value;
}

main().catch((error: unknown) => {
  console.error(
    `benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  );
  process.exitCode = 1;
});
