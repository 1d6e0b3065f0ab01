import { randomUUID } from 'node:crypto';
import pLimit from 'p-limit';
import type { Config } from '../config/schema.js';
import { unmatchedOverrides } from '../config/budgets.js';
import { dayConvention, describeConvention } from '../costs/calendar.js';
import { queryWindow } from '../costs/spend.js';
import type { Log } from '../log.js';
import type { Notifier } from '../notify/port.js';
import type { SelectelClient } from '../selectel/client.js';
import type { StateStore } from '../state/store.js';
import { collectCosts, errorDetails } from './collect.js';
import type { CutRequester } from './cut-request.js';
import { handleAccount } from './account.js';
import { sendQueuedNotifications } from './outbox.js';
import { type EvaluationContext, evaluateProject } from './evaluate.js';
import type { MessageContext } from './messages.js';
import { handleProject } from './project.js';
import { Sender } from './sender.js';
import type { AccountOutcome, CheckResult, ProjectOutcome } from './types.js';

export interface CheckDeps {
  config: Config;
  selectel: SelectelClient;
  store: StateStore;
  notifier: Notifier;
  cuts: CutRequester;
  log: Log;
  now?: () => number;
}

export interface CheckOptions {
  /** Evaluate as if at this instant. */
  runAtMs?: number;
  /** Write nothing: no claim, no notification, no cut. */
  dryRun?: boolean;
  runId?: string;
}

/** A claim still pending after this long belongs to a run that died. */
const CLAIM_LEASE_MS = 15 * 60_000;

/**
 * Runs one budget check: reads every project's costs, evaluates each period
 * against its budget, and sends one notification per crossing and one cut
 * request per cut-level crossing. A project's failure never stops the others.
 */
export async function runCheck(
  deps: CheckDeps,
  options: CheckOptions = {},
): Promise<CheckResult> {
  const now = deps.now ?? Date.now;
  const startedMs = now();
  const runAtMs = options.runAtMs ?? startedMs;
  const runId = options.runId ?? randomUUID();
  const dryRun = options.dryRun ?? false;
  const { config } = deps;
  const convention = dayConvention(config.costs.granularity, config.timezone);
  const window = queryWindow(runAtMs, convention);
  const base: Omit<
    CheckResult,
    | 'projects'
    | 'account'
    | 'warnings'
    | 'fatal'
    | 'errors'
    | 'queuedNotifications'
  > = {
    runId,
    runAtMs,
    timezone: config.timezone,
    dayConvention: describeConvention(convention, runAtMs),
    dryRun,
  };
  let collected: Awaited<ReturnType<typeof collectCosts>>;
  try {
    collected = await collectCosts(
      deps.selectel,
      config,
      {
        aggregation: config.costs.aggregation,
        granularitySeconds: config.costs.granularity,
        start: new Date(window.startMs),
        stop: new Date(window.stopMs),
      },
      deps.log,
    );
  } catch (error) {
    deps.log.error('budget check failed to list projects', {
      runId,
      error: errorDetails(error),
    });
    return {
      ...base,
      projects: [],
      account: null,
      warnings: [],
      queuedNotifications: { sent: 0, failed: 0 },
      fatal: `listing projects failed: ${error instanceof Error ? error.message : String(error)}`,
      errors: 1,
    };
  }
  const context: EvaluationContext = { config, convention, runAtMs };
  const messages: MessageContext = {
    runId,
    runAtMs,
    subjectPrefix: config.notifications.subjectPrefix,
    dayConvention: base.dayConvention,
  };
  const sender = new Sender(deps.store, deps.notifier, deps.log, {
    runId,
    nowMs: runAtMs,
    clockMs: now,
    leaseMs: CLAIM_LEASE_MS,
    dryRun,
  });
  const limit = pLimit(config.costs.concurrency);
  const projects = await Promise.all(
    collected.projects.map((project) =>
      limit(() => {
        const evaluation = evaluateProject(
          context,
          project,
          collected.series.get(project.id) ?? [],
        );
        return handleProject(deps, sender, messages, evaluation, dryRun);
      }),
    ),
  );
  const account = collected.account
    ? await handleAccount(
        deps,
        sender,
        messages,
        context,
        collected.account,
      ).catch((error: unknown) => {
        deps.log.error('account budget check failed', {
          runId,
          error: errorDetails(error),
        });
        return null;
      })
    : null;
  const warnings = [
    ...collected.warnings,
    ...projects
      .filter((outcome) => outcome.evaluation.budgetSource === 'default')
      .map(
        (outcome) =>
          `project ${outcome.evaluation.name} (${outcome.evaluation.id}) is not in the config; default budgets apply`,
      ),
    ...unmatchedOverrides(config, collected.projects).map(
      (key) => `budgets.projects.${key} matches no project id or name`,
    ),
  ];
  const queued = dryRun
    ? { sent: 0, failed: 0 }
    : await sendQueuedNotifications(deps, runId, now());
  const result: CheckResult = {
    ...base,
    projects,
    account,
    warnings,
    queuedNotifications: queued,
    fatal: null,
    errors: countErrors(projects, account) + queued.failed,
  };
  logSummary(deps.log, result, now() - startedMs);

  return result;
}

function countErrors(
  projects: ProjectOutcome[],
  account: AccountOutcome | null,
): number {
  let errors = 0;
  for (const project of projects) {
    if (project.error) errors++;
    errors += project.notifications.filter(
      (notification) => notification.error,
    ).length;
    const status = project.action?.status;
    if (status === 'failed' || status === 'partial') errors++;
  }
  errors +=
    account?.notifications.filter((notification) => notification.error)
      .length ?? 0;
  if (account?.dataStatus === 'error') errors++;

  return errors;
}

function logSummary(log: Log, result: CheckResult, durationMs: number): void {
  const levels = { ok: 0, warn: 0, over: 0, cut: 0 };
  const dataStatuses = { ok: 0, no_data: 0, stale: 0, error: 0 };
  for (const project of result.projects) {
    levels[project.evaluation.level]++;
    dataStatuses[project.evaluation.spend.dataStatus]++;
  }
  const notifications = result.projects.flatMap(
    (project) => project.notifications,
  );
  log.info('budget check finished', {
    runId: result.runId,
    runAt: new Date(result.runAtMs).toISOString(),
    dryRun: result.dryRun,
    projects: result.projects.length,
    levels,
    dataStatuses,
    notificationsSent: notifications.filter(
      (notification) => !notification.error && !notification.dryRun,
    ).length,
    queuedNotifications: result.queuedNotifications,
    notificationsFailed: notifications.filter(
      (notification) => notification.error,
    ).length,
    cuts: result.projects.filter(
      (project) =>
        project.action &&
        ['requested', 'done', 'partial'].includes(project.action.status),
    ).length,
    errors: result.errors,
    durationMs,
  });
}
