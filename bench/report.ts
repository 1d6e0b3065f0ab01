import type { AccountResult, CheckRun } from './accounts.js';
import { BUNDLE_LIMIT_BYTES, type BundleFigures } from './bundle.js';
import type { ColdStartResult, ProcessTimes } from './cold-start.js';
import type { Machine } from './machine.js';
import {
  LATENCY_FACTOR_LIMIT,
  type LatencyFloor,
  latencyFloor,
  median,
  medianRun,
  memoryGrowth,
  perProjectRequests,
  checkRunsAt,
  type Verdict,
} from './targets.js';

export interface BenchReport {
  command: string;
  machine: Machine;
  /** One-minute load average when the benchmark started and ended. */
  loadAverage: { start: number; end: number };
  runAtMs: number;
  latencyMs: number;
  accounts: AccountResult[];
  bundles: BundleFigures[];
  coldStarts: ColdStartResult;
  totalMs: number;
}

/** The project size at which the time target applies. */
const TIME_TARGET_PROJECTS = 1000;
const TIME_TARGET_GRANULARITY = 3600;

/** Renders the whole report as Markdown, with a pass/fail line per target. */
export function renderReport(report: BenchReport): string {
  return [
    header(report),
    checkTable(report),
    naiveTable(report),
    targetSection(report),
    bundleTable(report.bundles),
    coldStartTable(report.coldStarts),
    problemSection(report),
    `Whole benchmark: ${formatMs(report.totalMs)}.`,
  ].join('\n\n');
}

function header(report: BenchReport): string {
  const { machine } = report;

  return [
    '# budget-guard benchmark',
    '',
    `Command: \`${report.command}\` at commit ${machine.revision}`,
    `Machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB.toFixed(1)} GiB, Node ${machine.node}, ${machine.kernel}`,
    `One-minute load average: ${report.loadAverage.start.toFixed(2)} at the start, ${report.loadAverage.end.toFixed(2)} at the end (other work on the machine slows every figure)`,
    `Evaluated instant: ${new Date(report.runAtMs).toISOString()} (23:30 Moscow time on the last day of the month); latency added to every simulator request: ${report.latencyMs} ms`,
  ].join('\n');
}

function checkTable(report: BenchReport): string {
  const rows = [
    '## Budget check',
    '',
    '| projects | granularity | runs | wall, median (min–max) | reads done | after reads | latency floor | requests | peak in flight | simulator CPU | buckets read | max RSS | RSS increase | peak heap | config load |',
    '|---:|---:|---:|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const account of report.accounts) {
    for (const { granularity, runs } of account.checks) {
      const run = medianRun(runs);
      const walls = runs.map((entry) => entry.check.wallMs);
      const floor = latencyFloor(
        run.sim,
        run.check.concurrency,
        report.latencyMs,
      );
      rows.push(
        `| ${account.projects} | ${granularity} s | ${runs.length} | ${formatMs(run.check.wallMs)} (${formatMs(Math.min(...walls))}–${formatMs(Math.max(...walls))}) | ${formatMs(run.check.readsDoneMs)} | ${formatMs(run.check.wallMs - run.check.readsDoneMs)} | ${formatMs(floor.floorMs)} | ${run.sim.total}: ${routes(run.sim.byRoute)} | ${run.sim.peakConcurrency} | ${formatMs(run.sim.cpuMs)} | ${run.check.bucketsRead} | ${formatBytes(run.check.memory.maxRssBytes)} | ${formatBytes(run.check.memory.rssDeltaBytes)} | ${formatBytes(run.check.memory.peakHeapUsedBytes)} | ${formatMs(run.check.configLoadMs)} |`,
      );
    }
  }
  const first = report.accounts[0]?.checks[0]?.runs[0]?.check;
  if (first) {
    rows.push(
      '',
      `Config: concurrency ${first.concurrency}, batch size ${first.batchSize}, page limit ${first.pageLimit}. Each row shows the run with the median wall time.`,
    );
  }

  return rows.join('\n');
}

function naiveTable(report: BenchReport): string {
  const rows = [
    '## Naive baseline (one project at a time) against the check',
    '',
    '| projects | granularity | naive wall | naive requests | naive latency floor | naive max RSS | naive RSS increase | check wall | check requests | time ratio | request ratio |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const account of report.accounts) {
    if (!account.naive) continue;
    const { granularity, run } = account.naive;
    const runs = checkRunsAt(account, granularity);
    if (!runs) continue;
    const check = medianRun(runs);
    rows.push(
      `| ${account.projects} | ${granularity} s | ${formatMs(run.naive.wallMs)} | ${run.sim.total} | ${formatMs(run.sim.total * report.latencyMs)} | ${formatBytes(run.naive.memory.maxRssBytes)} | ${formatBytes(run.naive.memory.rssDeltaBytes)} | ${formatMs(check.check.wallMs)} | ${check.sim.total} | ${(run.naive.wallMs / check.check.wallMs).toFixed(1)}× | ${(run.sim.total / check.sim.total).toFixed(1)}× |`,
    );
  }

  return rows.join('\n');
}

function targetSection(report: BenchReport): string {
  const verdicts = [
    timeVerdict(report),
    perProjectTimeVerdict(report),
    requestVerdict(report),
    ...memoryVerdicts(report),
  ];

  return [
    '## Targets',
    '',
    ...verdicts.map(
      (verdict) =>
        `- **${verdict.pass ? 'PASS' : 'FAIL'}** ${verdict.name}: ${verdict.detail}`,
    ),
  ].join('\n');
}

/**
 * Picks the median run at the time target's account size and bucket width,
 * with its latency floor. Returns undefined if the benchmark did not measure
 * that size at that width.
 */
function timeTargetRun(
  report: BenchReport,
): { run: CheckRun; floor: LatencyFloor } | undefined {
  const account = report.accounts.find(
    (entry) => entry.projects === TIME_TARGET_PROJECTS,
  );
  const runs = account && checkRunsAt(account, TIME_TARGET_GRANULARITY);
  if (!runs) return undefined;
  const run = medianRun(runs);

  return {
    run,
    floor: latencyFloor(run.sim, run.check.concurrency, report.latencyMs),
  };
}

function timeVerdict(report: BenchReport): Verdict {
  const name = `${TIME_TARGET_PROJECTS} projects within ${LATENCY_FACTOR_LIMIT}× the latency floor`;
  const measured = timeTargetRun(report);
  if (!measured) return { name, pass: false, detail: 'not measured' };
  const { run, floor } = measured;
  const limitMs = LATENCY_FACTOR_LIMIT * floor.floorMs;

  return {
    name,
    pass: run.check.wallMs < limitMs,
    detail:
      `${formatMs(run.check.wallMs)} with ${TIME_TARGET_GRANULARITY} s buckets, against a bar of ${formatMs(limitMs)}. ` +
      `Floor = (${floor.sequential} sequential + ceil(${floor.parallel} reads / concurrency ${floor.concurrency})) × ${floor.latencyMs} ms = ${formatMs(floor.floorMs)}. ` +
      `The run took ${(run.check.wallMs / floor.floorMs).toFixed(1)}× the floor.`,
  };
}

/**
 * Checks the run against the same bar, with the floor of the design that the
 * target has in mind: one read per project, `concurrency` at a time. The
 * check batches its reads, so it sends far fewer requests than that.
 */
function perProjectTimeVerdict(report: BenchReport): Verdict {
  const name = `${TIME_TARGET_PROJECTS} projects within ${LATENCY_FACTOR_LIMIT}× the latency of one read per project`;
  const measured = timeTargetRun(report);
  if (!measured) return { name, pass: false, detail: 'not measured' };
  const { run, floor } = measured;
  const rounds = Math.ceil(TIME_TARGET_PROJECTS / floor.concurrency);
  const floorMs = (floor.sequential + rounds) * floor.latencyMs;
  const limitMs = LATENCY_FACTOR_LIMIT * floorMs;

  return {
    name,
    pass: run.check.wallMs < limitMs,
    detail:
      `${formatMs(run.check.wallMs)} against a bar of ${formatMs(limitMs)}. ` +
      `Floor = (${floor.sequential} sequential + ceil(${TIME_TARGET_PROJECTS} reads / concurrency ${floor.concurrency})) × ${floor.latencyMs} ms = ${formatMs(floorMs)}. ` +
      `The run took ${(run.check.wallMs / floorMs).toFixed(2)}× that floor.`,
  };
}

function requestVerdict(report: BenchReport): Verdict {
  const details: string[] = [];
  let pass = true;
  for (const account of report.accounts) {
    for (const { granularity, runs } of account.checks) {
      const worst = Math.max(...runs.map((run) => perProjectRequests(run.sim)));
      if (worst > account.projects) pass = false;
      details.push(`${worst} (${account.projects} projects, ${granularity} s)`);
    }
  }

  return {
    name: 'at most one request per project plus paging and sign-in',
    pass,
    detail: `requests beyond sign-in and listings: ${details.join(', ')}`,
  };
}

function memoryVerdicts(report: BenchReport): Verdict[] {
  return memoryGrowth(report.accounts, TIME_TARGET_GRANULARITY).map((step) => ({
    name: `memory from ${step.fromProjects} to ${step.toProjects} projects grows no faster than the projects`,
    pass: step.growth <= step.allowed,
    detail: `RSS increase ${formatBytes(step.fromDeltaBytes)} → ${formatBytes(step.toDeltaBytes)}, ${step.growth.toFixed(2)}× for ${step.allowed}× the projects, or ${formatBytes(step.fromDeltaBytes / step.fromProjects, 1)} → ${formatBytes(step.toDeltaBytes / step.toProjects, 1)} per project`,
  }));
}

function bundleTable(bundles: BundleFigures[]): string {
  const rows = [
    '## Function bundles',
    '',
    '| function | minified | gzip | source map | under 1 MB | largest parts |',
    '|---|---:|---:|---:|---|---|',
  ];
  for (const bundle of bundles) {
    const parts = bundle.largestInputs
      .slice(0, 5)
      .map((input) => `${input.name} ${formatKilobytes(input.bytes)}`)
      .join(', ');
    rows.push(
      `| ${bundle.name} | ${bundle.bytes} B | ${bundle.gzipBytes} B | ${bundle.sourceMapBytes} B | ${bundle.bytes < BUNDLE_LIMIT_BYTES ? 'PASS' : 'FAIL'} | ${parts} |`,
    );
  }

  return rows.join('\n');
}

function coldStartTable(result: ColdStartResult): string {
  const rows = [
    `## Cold start (median of ${result.runs} runs)`,
    '',
    '| process | spawn to exit | process start to script | module load | first handler call | process start to handler end |',
    '|---|---:|---:|---:|---:|---:|',
    `| node -e '' | ${formatMs(median(result.bareNodeMs))} | | | | |`,
  ];
  for (const entry of result.functions) {
    const pick = (key: keyof ProcessTimes) =>
      formatMs(median(entry.times.map((times) => times[key])));
    rows.push(
      `| ${entry.name} | ${pick('wallMs')} | ${pick('startMs')} | ${pick('loadMs')} | ${pick('handlerMs')} | ${pick('doneMs')} |`,
    );
  }

  return rows.join('\n');
}

/** Lists runs whose results show that the measurement itself went wrong. */
export function measurementProblems(report: BenchReport): string[] {
  const problems: string[] = [];
  for (const account of report.accounts) {
    for (const { granularity, runs } of account.checks) {
      for (const [index, { check, sim }] of runs.entries()) {
        const where = `check of ${account.projects} projects at ${granularity} s, run ${index + 1}`;
        if (check.fatal) problems.push(`${where}: fatal: ${check.fatal}`);
        if (check.projects !== account.projects || check.errors > 0) {
          problems.push(
            `${where}: ${check.projects} projects, ${check.errors} errors`,
          );
        }
        if ((check.dataStatuses.ok ?? 0) !== account.projects) {
          problems.push(
            `${where}: data statuses ${JSON.stringify(check.dataStatuses)}`,
          );
        }
        if (Object.keys(sim.failures).length > 0) {
          problems.push(
            `${where}: failed responses ${JSON.stringify(sim.failures)}`,
          );
        }
      }
    }
    const naive = account.naive?.run.naive;
    if (naive && (naive.failures > 0 || naive.projects !== account.projects)) {
      problems.push(
        `naive baseline of ${account.projects} projects: ${naive.projects} projects, ${naive.failures} failed reads`,
      );
    }
  }
  for (const entry of report.coldStarts.functions) {
    problems.push(...entry.problems.map((text) => `${entry.name}: ${text}`));
  }

  return problems;
}

function problemSection(report: BenchReport): string {
  const problems = measurementProblems(report);
  const notes: string[] = [];
  for (const account of report.accounts) {
    for (const { granularity, runs } of account.checks) {
      for (const [index, { check }] of runs.entries()) {
        if (check.log.warn + check.log.error === 0) continue;
        notes.push(
          `check of ${account.projects} projects at ${granularity} s, run ${index + 1}: ${check.log.warn} warnings and ${check.log.error} errors logged. First: ${check.log.firstProblems.join(' | ')}`,
        );
      }
    }
  }

  return [
    '## Problems and log warnings',
    '',
    problems.length === 0
      ? 'Every run read every project with data status ok and no errors.'
      : problems.map((problem) => `- INVALID ${problem}`).join('\n'),
    ...(notes.length > 0 ? ['', ...notes.map((note) => `- ${note}`)] : []),
  ].join('\n');
}

function routes(byRoute: Record<string, number>): string {
  return Object.entries(byRoute)
    .map(([route, count]) => `${route} ${count}`)
    .join(', ');
}

export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return 'n/a';
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;

  return `${ms.toFixed(0)} ms`;
}

function formatBytes(bytes: number, digits = 0): string {
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(digits)} KiB`;

  return `${(bytes / 1024 / 1024).toFixed(digits)} MiB`;
}

function formatKilobytes(bytes: number): string {
  return `${(bytes / 1000).toFixed(0)} kB`;
}
