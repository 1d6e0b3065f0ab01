import { levelRank } from '../costs/levels.js';
import { formatRubles } from '../costs/money.js';
import { EVENTS } from '../notify/port.js';
import { errorDetails } from './collect.js';
import {
  type MessageContext,
  crossingMessage,
  dataMessage,
  unlistedMessage,
} from './messages.js';
import type { CheckDeps } from './run.js';
import type { Sender } from './sender.js';
import type {
  ActionOutcome,
  PeriodResult,
  ProjectEvaluation,
  ProjectOutcome,
} from './types.js';

/** Sends a project's notifications and requests its cut; never throws. */
export async function handleProject(
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
    // A retried cut whose crossing was already notified is not announced
    // again, unless the notification itself carries the cut request.
    let notified = true;
    if (crossing || deps.cuts.viaNotification) {
      const sent = await sender.send(message, period.kind);
      outcome.notifications.push(sent.report);
      if (crossing) await sender.settle(subject, periodKey, sent.ok);
      notified = sent.ok;
    }
    if (!cutClaimed || !action) continue;
    cutHandled = true;
    outcome.action = await requestCut(
      deps,
      sender,
      evaluation,
      period,
      action,
      notified,
      dryRun,
    );
    // A skipped cut (data not ok at the re-check, project locked) is tried
    // again by the next run, like a failed or partial one.
    const settled = !['failed', 'partial', 'skipped'].includes(
      outcome.action.status,
    );
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
