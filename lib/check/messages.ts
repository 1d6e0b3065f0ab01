import { formatRubles, kopecksToRubles } from '../costs/money.js';
import type { DataStatus } from '../costs/spend.js';
import { EVENTS, type EventName, type Notification } from '../notify/port.js';
import type { ActionOutcome, PeriodResult } from './types.js';

export interface MessageContext {
  runId: string;
  runAtMs: number;
  subjectPrefix: string;
  dayConvention: string;
}

type Subject = { id: string; name: string } | null;

/** Describes a level crossing of one period, with the cut action if any. */
export function crossingMessage(
  context: MessageContext,
  subject: Subject,
  period: PeriodResult,
  dataStatus: DataStatus,
  action: ActionOutcome | null,
  event: EventName,
): Notification {
  const who = subject ? subject.name : 'account';
  const amounts = `${formatRubles(period.spentKopecks)}/${formatRubles(period.limitKopecks ?? 0)} RUB`;
  const title = `${period.level.toUpperCase()} ${who}: ${periodLabel(period)} ${amounts}`;
  const lines = [
    `${subject ? `Project: ${subject.name} (${subject.id})` : 'Account total'}`,
    `Period: ${periodLabel(period)} (${context.dayConvention})`,
    `${period.kind === 'forecast' ? 'Forecast' : 'Spend'}: ${formatRubles(period.spentKopecks)} RUB of ${formatRubles(period.limitKopecks ?? 0)} RUB (${share(period)})`,
    `Level: ${period.level}`,
    `Data status: ${dataStatus}`,
    `Action: ${describeAction(action, subject?.id)}`,
    `Run: ${new Date(context.runAtMs).toISOString()} (${context.runId})`,
  ];

  return {
    event,
    project: subject,
    level: period.level,
    subject: `${context.subjectPrefix} ${title}`,
    text: lines.join('\n'),
    data: {
      event,
      runId: context.runId,
      runAt: new Date(context.runAtMs).toISOString(),
      project: subject,
      level: period.level,
      period: { kind: period.kind, key: period.key, complete: period.complete },
      spent: kopecksToRubles(period.spentKopecks),
      limit:
        period.limitKopecks === null
          ? null
          : kopecksToRubles(period.limitKopecks),
      dataStatus,
      action,
    },
  };
}

/** Describes data that is missing, stale or failed to load. */
export function dataMessage(
  context: MessageContext,
  subject: Subject,
  dataStatus: DataStatus,
  reason: string | null,
  day: string,
): Notification {
  const who = subject ? subject.name : 'account';
  const label = {
    ok: 'OK',
    no_data: 'NO DATA',
    stale: 'STALE DATA',
    error: 'DATA ERROR',
  }[dataStatus];

  return {
    event: EVENTS.dataQuality,
    project: subject,
    level: dataStatus,
    subject: `${context.subjectPrefix} ${label} ${who} (${day})`,
    text: [
      `${subject ? `Project: ${subject.name} (${subject.id})` : 'Account total'}`,
      `Data status: ${dataStatus}${reason ? `: ${reason}` : ''}`,
      'Budgets of this project cannot be checked until its cost data is back; no cut is made on missing data.',
      `Run: ${new Date(context.runAtMs).toISOString()} (${context.runId})`,
    ].join('\n'),
    data: {
      event: EVENTS.dataQuality,
      runId: context.runId,
      runAt: new Date(context.runAtMs).toISOString(),
      project: subject,
      level: dataStatus,
      dataStatus,
      reason,
      day,
    },
  };
}

/** Tells once that a project has no entry in the config and gets the defaults. */
export function unlistedMessage(
  context: MessageContext,
  subject: { id: string; name: string },
): Notification {
  return {
    event: EVENTS.projectUnlisted,
    project: subject,
    level: 'warn',
    subject: `${context.subjectPrefix} DEFAULT BUDGET ${subject.name}: not in the config`,
    text: [
      `Project: ${subject.name} (${subject.id})`,
      'The project has no entry under budgets.projects, so budgets.default applies to it.',
      `Add "${subject.id}" or "${subject.name}" under budgets.projects to give it its own budget.`,
    ].join('\n'),
    data: {
      event: EVENTS.projectUnlisted,
      runId: context.runId,
      project: subject,
      level: 'warn',
    },
  };
}

export function periodLabel(
  period: Pick<PeriodResult, 'kind' | 'key'>,
): string {
  if (period.kind === 'day') return `day ${period.key}`;
  if (period.kind === 'month') return `month ${period.key}`;

  return `forecast ${period.key}`;
}

function share(period: PeriodResult): string {
  if (!period.limitKopecks) return 'no limit';

  return `${((period.spentKopecks / period.limitKopecks) * 100).toFixed(1)}% of the limit`;
}

export function describeAction(
  action: ActionOutcome | null,
  projectId = 'PROJECT',
): string {
  if (!action) return 'none';
  const reason = action.reason ? `: ${action.reason}` : '';
  switch (action.status) {
    case 'requested':
      return `cut requested (mode ${action.mode})${reason}`;
    case 'pending_approval':
      return `cut waiting for approval (mode ${action.mode}); approve with "budget-guard cut ${projectId} --mode ${action.mode}" or a signed webhook request`;
    case 'refused':
      return `cut refused${reason}`;
    case 'skipped':
      return `cut skipped${reason}`;
    default:
      return `cut ${action.status} (mode ${action.mode})${reason}`;
  }
}
