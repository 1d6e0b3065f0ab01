import { randomUUID } from 'node:crypto';
import pLimit from 'p-limit';
import type { Config } from '../config/schema.js';
import { unmatchedOverrides } from '../config/budgets.js';
import { dayConvention, describeConvention } from '../costs/calendar.js';
import { levelRank } from '../costs/levels.js';
import { formatRubles } from '../costs/money.js';
import { queryWindow } from '../costs/spend.js';
import type { Log } from '../log.js';
import { EVENTS, type Notifier } from '../notify/port.js';
import type { SelectelClient } from '../selectel/client.js';
import type { StateStore } from '../state/store.js';
import { collectCosts, errorDetails } from './collect.js';
import type { CutRequester } from './cut-request.js';
import {
  type EvaluationContext,
  evaluateAccount,
  evaluateProject,
} from './evaluate.js';
import {
  type MessageContext,
  crossingMessage,
  dataMessage,
  unlistedMessage,
} from './messages.js';
import { Sender } from './sender.js';
import type {
  AccountOutcome,
  ActionOutcome,
  CheckResult,
  PeriodResult,
  ProjectEvaluation,
  ProjectOutcome,
} from './types.js';

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
    'projects' | 'account' | 'warnings' | 'fatal' | 'errors'
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
    ? await handleAccount(deps, sender, messages, context, collected.account)
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
  const result: CheckResult = {
    ...base,
    projects,
    account,
    warnings,
    fatal: null,
    errors: countErrors(projects, account),
  };
  logSummary(deps.log, result, now() - startedMs);

  return result;
}

async function handleProject(
  deps: CheckDeps,
  sender: Sender,
  messages: MessageContext,
  evaluation: ProjectEvaluation,
  dryRun: boolean,
): Promise<ProjectOutcome> {
  const outcome: ProjectOutcome = {
    evaluation,
    notifications: [],
    action: null,
    error:
      evaluation.spend.dataStatus === 'error' ? evaluation.spend.reason : null,
  };
  try {
    await notifyProject(deps, sender, messages, evaluation, outcome, dryRun);
  } catch (error) {
    deps.log.error('budget check of a project failed', {
      projectId: evaluation.id,
      error: errorDetails(error),
    });
    outcome.error = `handling the project failed: ${error instanceof Error ? error.message : String(error)}`;
  }

  return outcome;
}

async function notifyProject(
  deps: CheckDeps,
  sender: Sender,
  messages: MessageContext,
  evaluation: ProjectEvaluation,
  outcome: ProjectOutcome,
  dryRun: boolean,
): Promise<void> {
  const target = { id: evaluation.id, name: evaluation.name };
  const subject = `project#${evaluation.id}`;
  const { budget, spend } = evaluation;
  const plan = planCut(evaluation);
  outcome.action = plan.outcome;
  let cutHandled = false;
  for (const period of evaluation.periods) {
    if (period.level === 'ok') continue;
    const periodKey = `${period.kind}:${period.key}`;
    const crossing = await sender.claim(
      subject,
      periodKey,
      levelRank(period.level),
    );
    const cutClaimed =
      plan.period === period &&
      (await sender.claim(subject, `cut:${periodKey}`, 1));
    if (!crossing && !cutClaimed) continue;
    const manual = budget.approval === 'manual';
    let action = period.level === 'cut' ? plan.outcome : null;
    if (cutClaimed) {
      action = {
        type: 'cut',
        mode: plan.mode,
        status: manual ? 'pending_approval' : 'requested',
        requestId: `cut:${evaluation.id}:${periodKey}`,
      };
    }
    const event = !cutClaimed
      ? EVENTS.levelCrossed
      : manual
        ? EVENTS.cutPending
        : EVENTS.cutRequested;
    const message = crossingMessage(
      messages,
      target,
      period,
      spend.dataStatus,
      action,
      event,
    );
    const sent = await sender.send(message, period.kind);
    outcome.notifications.push(sent.report);
    if (crossing) await sender.settle(subject, periodKey, sent.ok);
    if (!cutClaimed || !action) continue;
    cutHandled = true;
    outcome.action = await requestCut(
      deps,
      sender,
      evaluation,
      period,
      action,
      sent.ok,
      dryRun,
    );
    const settled = !['failed', 'partial'].includes(outcome.action.status);
    await sender.settle(subject, `cut:${periodKey}`, settled);
  }
  if (plan.period && !cutHandled && !dryRun) {
    outcome.action = await existingCut(deps, evaluation, plan.mode);
  }
  if (spend.dataStatus !== 'ok') {
    const day = spend.days[1].date;
    if (await sender.claim(subject, `data:${day}:${spend.dataStatus}`, 1)) {
      const sent = await sender.send(
        dataMessage(messages, target, spend.dataStatus, spend.reason, day),
        'data',
      );
      outcome.notifications.push(sent.report);
      await sender.settle(subject, `data:${day}:${spend.dataStatus}`, sent.ok);
    }
  }
  if (
    evaluation.budgetSource === 'default' &&
    (await sender.claim(subject, 'config:unlisted', 1, true))
  ) {
    const sent = await sender.send(unlistedMessage(messages, target), 'config');
    outcome.notifications.push(sent.report);
    await sender.settle(subject, 'config:unlisted', sent.ok);
  }
}

interface CutPlan {
  /** The period whose crossing carries the cut request, if a cut is due. */
  period: PeriodResult | null;
  mode: 'freeze' | 'zero';
  /** The outcome to report when no new request is made. */
  outcome: ActionOutcome | null;
}

/**
 * Decides whether a project's cut-level crossing may lead to a cut: never
 * for a protected project, never on data that is not `ok`, never for the
 * forecast. Today's day comes first, then the month, then yesterday.
 */
function planCut(evaluation: ProjectEvaluation): CutPlan {
  const mode = evaluation.budget.action === 'zero' ? 'zero' : 'freeze';
  const order = (period: PeriodResult) =>
    period.kind === 'month' ? 1 : period === evaluation.periods[1] ? 0 : 2;
  const atCut = evaluation.periods
    .filter((period) => period.level === 'cut' && period.kind !== 'forecast')
    .sort((a, b) => order(a) - order(b));
  const first = atCut[0];
  if (!first) return { period: null, mode, outcome: null };
  if (evaluation.budget.action === 'none') {
    return {
      period: null,
      mode,
      outcome: {
        type: 'cut',
        mode,
        status: 'refused',
        reason: 'the project is protected (action: none)',
      },
    };
  }
  if (evaluation.spend.dataStatus !== 'ok') {
    return {
      period: null,
      mode,
      outcome: {
        type: 'cut',
        mode,
        status: 'skipped',
        reason: `data is ${evaluation.spend.dataStatus}${evaluation.spend.reason ? ` (${evaluation.spend.reason})` : ''}`,
      },
    };
  }

  return { period: first, mode, outcome: null };
}

async function requestCut(
  deps: CheckDeps,
  sender: Sender,
  evaluation: ProjectEvaluation,
  period: PeriodResult,
  action: ActionOutcome,
  notified: boolean,
  dryRun: boolean,
): Promise<ActionOutcome> {
  if (dryRun)
    return {
      ...action,
      status: 'skipped',
      reason: `dry run: would request a ${action.mode} cut`,
    };
  if (action.status === 'pending_approval') {
    await deps.store.putPendingApproval({
      projectId: evaluation.id,
      projectName: evaluation.name,
      period: `${period.kind}:${period.key}`,
      requestedAt: new Date(sender.clockMs()).toISOString(),
      mode: action.mode,
      spentKopecks: period.spentKopecks,
      limitKopecks: period.limitKopecks ?? 0,
    });
    return action;
  }
  if (deps.cuts.viaNotification && !notified) {
    return {
      ...action,
      status: 'failed',
      reason: 'publishing the cut request failed; the next run sends it again',
    };
  }
  try {
    return await deps.cuts.request({
      requestId:
        action.requestId ?? `cut:${evaluation.id}:${period.kind}:${period.key}`,
      project: { id: evaluation.id, name: evaluation.name },
      period: `${period.kind}:${period.key}`,
      mode: action.mode,
      reason: cutReason(evaluation, period),
    });
  } catch (error) {
    deps.log.error('cut request failed', {
      projectId: evaluation.id,
      error: errorDetails(error),
    });
    return {
      ...action,
      status: 'failed',
      reason: error instanceof Error ? error.message : String(error),
    };
  }
}

function cutReason(
  evaluation: ProjectEvaluation,
  period: PeriodResult,
): string {
  const share = (evaluation.budget.cutBasisPoints ?? 0) / 100;

  return `${period.kind} ${period.key}: spend ${formatRubles(period.spentKopecks)} RUB is over the cut level of ${share}% of ${formatRubles(period.limitKopecks ?? 0)} RUB`;
}

/** Reports a cut made by an earlier run, so reruns show the project as cut. */
async function existingCut(
  deps: CheckDeps,
  evaluation: ProjectEvaluation,
  mode: 'freeze' | 'zero',
): Promise<ActionOutcome | null> {
  const snapshot = await deps.store.getSnapshot(evaluation.id);
  if (snapshot?.status === 'active') {
    return {
      type: 'cut',
      mode: snapshot.mode,
      status: snapshot.cutStatus === 'applying' ? 'failed' : snapshot.cutStatus,
      requestId: snapshot.requestId,
      snapshotId: snapshot.snapshotId,
      reason: `cut at ${snapshot.takenAt}`,
    };
  }
  const pending = await deps.store.getPendingApproval(evaluation.id);
  if (pending) {
    return {
      type: 'cut',
      mode: pending.mode,
      status: 'pending_approval',
      reason: `requested at ${pending.requestedAt}`,
    };
  }

  return {
    type: 'cut',
    mode,
    status: 'requested',
    reason: 'requested by an earlier run',
  };
}

async function handleAccount(
  deps: CheckDeps,
  sender: Sender,
  messages: MessageContext,
  context: EvaluationContext,
  series: Parameters<typeof evaluateAccount>[1],
): Promise<AccountOutcome | null> {
  const evaluated = evaluateAccount(context, series);
  if (!evaluated) return null;
  const outcome: AccountOutcome = {
    dataStatus: evaluated.spend.dataStatus,
    ...evaluated,
    notifications: [],
  };
  const subject = `account#${deps.config.account}`;
  try {
    for (const period of evaluated.periods) {
      if (period.level === 'ok') continue;
      const periodKey = `${period.kind}:${period.key}`;
      if (!(await sender.claim(subject, periodKey, levelRank(period.level))))
        continue;
      const message = crossingMessage(
        messages,
        null,
        period,
        evaluated.spend.dataStatus,
        null,
        EVENTS.levelCrossed,
      );
      const sent = await sender.send(message, period.kind);
      outcome.notifications.push(sent.report);
      await sender.settle(subject, periodKey, sent.ok);
    }
    if (evaluated.spend.dataStatus !== 'ok') {
      const day = evaluated.spend.days[1].date;
      const key = `data:${day}:${evaluated.spend.dataStatus}`;
      if (await sender.claim(subject, key, 1)) {
        const sent = await sender.send(
          dataMessage(
            messages,
            null,
            evaluated.spend.dataStatus,
            evaluated.spend.reason,
            day,
          ),
          'data',
        );
        outcome.notifications.push(sent.report);
        await sender.settle(subject, key, sent.ok);
      }
    }
  } catch (error) {
    deps.log.error('account budget check failed', {
      error: errorDetails(error),
    });
  }

  return outcome;
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
    if (project.action?.status === 'failed') errors++;
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
