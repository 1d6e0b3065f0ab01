import type { Context, ScheduledEvent } from 'aws-lambda';
import { runCheck } from '../lib/check/run.js';
import { eventCutRequester } from '../lib/check/cut-request.js';
import { checkReport } from '../lib/check/report.js';
import {
  createFunctionRuntime,
  type FunctionRuntime,
  parseFunctionEnv,
} from '../lib/wiring/aws.js';
import { createLogger, powertoolsLog } from '../lib/wiring/logger.js';

let runtime: Promise<FunctionRuntime> | undefined;
let secrets: readonly string[] = [];
const logger = createLogger('budget-guard-check', () => secrets);
const log = powertoolsLog(logger);

/** Optional fields of a manual invocation: `{"now": ISO, "dryRun": true}`. */
interface ManualEvent {
  now?: string;
  dryRun?: boolean;
}

/**
 * Scheduled budget check: one run over every project, one summary log line,
 * cut requests published as `budget.cut_requested` events.
 */
export async function handler(
  event: ScheduledEvent | ManualEvent,
  context: Context,
): Promise<ReturnType<typeof summarize>> {
  logger.addContext(context);
  const manual = event as ManualEvent;
  runtime ??= createFunctionRuntime(parseFunctionEnv(process.env), log).catch(
    (error: unknown) => {
      runtime = undefined;
      throw error;
    },
  );
  const deps = await runtime;
  secrets = deps.secrets;
  const runAtMs = manual.now ? Date.parse(manual.now) : undefined;
  if (runAtMs !== undefined && Number.isNaN(runAtMs)) {
    throw new Error(
      `invalid "now" in the event: ${manual.now}; give an ISO 8601 instant`,
    );
  }
  const result = await runCheck(
    {
      config: deps.config,
      selectel: deps.selectel,
      store: deps.store,
      notifier: deps.notifier,
      cuts: eventCutRequester,
      log,
    },
    { runAtMs, dryRun: manual.dryRun === true, runId: context.awsRequestId },
  );
  if (result.fatal) {
    // Credentials may have changed in SSM: build the clients anew next time.
    runtime = undefined;
    // A failed invocation shows in the function's error metric and alarms.
    throw new Error(`budget check failed: ${result.fatal}`);
  }

  return summarize(checkReport(result));
}

function summarize(report: ReturnType<typeof checkReport>) {
  return {
    runAt: report.runAt,
    runId: report.runId,
    projects: report.projects.length,
    notifications: report.projects.reduce(
      (count, project) => count + project.notifications.length,
      0,
    ),
    cuts: report.projects.filter(
      (project) => project.action?.status === 'requested',
    ).length,
    errors: report.errors,
    error: report.error,
  };
}
