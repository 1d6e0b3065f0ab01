/**
 * One budget check in a fresh process, wired as `budget-guard check` wires
 * it (local file store and outbox, cut requests to the in-process quota
 * actions), with its wall time and memory measured around `runCheck`.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCheck } from '../lib/check/run.js';
import { loadConfig } from '../lib/config/load.js';
import { localCutRequester } from '../lib/quota/local-requester.js';
import type { SelectelHttp } from '../lib/selectel/http.js';
import { createLocalRuntime } from '../lib/wiring/local.js';
import { countingLog, type LogCounts } from './count-log.js';
import { childInput, reportOutcome } from './ipc.js';
import { type MemoryFigures, measureMemory } from './memory.js';

export interface CheckChildInput {
  configText: string;
  /** Folder for the config, the state and the outbox; fresh for each run. */
  workDir: string;
  apiKey: string;
  runAtMs: number;
}

export interface CheckChildResult {
  wallMs: number;
  /** When the last Selectel response was parsed, from the start of the run. */
  readsDoneMs: number;
  configLoadMs: number;
  projects: number;
  errors: number;
  fatal: string | null;
  dataStatuses: Record<string, number>;
  levels: Record<string, number>;
  notifications: number;
  /** Cost buckets in the Gnocchi responses, over all projects. */
  bucketsRead: number;
  concurrency: number;
  batchSize: number;
  pageLimit: number;
  log: LogCounts;
  memory: MemoryFigures;
}

async function check(): Promise<CheckChildResult> {
  const input = childInput<CheckChildInput>();
  const configPath = join(input.workDir, 'budgets.yml');
  await writeFile(configPath, input.configText);
  const loadStartedMs = performance.now();
  const config = await loadConfig(configPath);
  const configLoadMs = performance.now() - loadStartedMs;
  const { log, counts } = countingLog();
  const runtime = createLocalRuntime({
    config,
    env: {
      SELECTEL_API_KEY: input.apiKey,
      BUDGET_GUARD_STATE_DIR: join(input.workDir, 'state'),
    },
    cwd: input.workDir,
    log,
  });
  const reads = watchResponses(runtime.selectel.http);
  try {
    const startedMs = performance.now();
    const { value: result, memory } = await measureMemory(() =>
      runCheck(
        {
          config,
          selectel: runtime.selectel,
          store: runtime.store,
          notifier: runtime.notifier,
          cuts: localCutRequester(runtime.actions, input.runAtMs),
          log,
        },
        { runAtMs: input.runAtMs },
      ),
    );
    const wallMs = performance.now() - startedMs;
    const dataStatuses: Record<string, number> = {};
    const levels: Record<string, number> = {};
    let notifications = 0;
    for (const project of result.projects) {
      const { dataStatus } = project.evaluation.spend;
      dataStatuses[dataStatus] = (dataStatuses[dataStatus] ?? 0) + 1;
      const { level } = project.evaluation;
      levels[level] = (levels[level] ?? 0) + 1;
      notifications += project.notifications.length;
    }

    return {
      wallMs,
      readsDoneMs: reads.lastResponseMs - startedMs,
      configLoadMs,
      projects: result.projects.length,
      errors: result.errors,
      fatal: result.fatal,
      dataStatuses,
      levels,
      notifications,
      bucketsRead: reads.buckets,
      concurrency: config.costs.concurrency,
      batchSize: config.costs.batchSize,
      pageLimit: config.costs.pageLimit,
      log: counts,
      memory,
    };
  } finally {
    await runtime.close();
  }
}

/**
 * Wraps `http.send` to note when each response has been parsed and how many
 * cost buckets came back; the requests themselves are unchanged.
 */
function watchResponses(http: SelectelHttp) {
  const watched = { lastResponseMs: 0, buckets: 0 };
  const send = http.send.bind(http);
  http.send = async (request) => {
    const response = await send(request);
    watched.lastResponseMs = performance.now();
    watched.buckets += countBuckets(response.data);
    return response;
  };

  return watched;
}

/** Counts `[start, granularity, value]` triples in a measures or aggregates body. */
function countBuckets(data: unknown): number {
  if (Array.isArray(data)) {
    return data.filter((item) => Array.isArray(item) && item.length === 3)
      .length;
  }
  if (typeof data !== 'object' || data === null || !('measures' in data)) {
    return 0;
  }
  let count = 0;
  const measures = (data as { measures: Record<string, unknown> }).measures;
  for (const metrics of Object.values(measures)) {
    for (const aggregations of Object.values(metrics as object)) {
      for (const series of Object.values(aggregations as object)) {
        if (Array.isArray(series)) count += series.length;
      }
    }
  }

  return count;
}

void reportOutcome(check);
