import { formatRubles, kopecksToRubles } from '../costs/money.js';
import type { CheckResult, PeriodResult, ProjectOutcome } from './types.js';

const rubles = (kopecks: number | null) =>
  kopecks === null ? null : kopecksToRubles(kopecks);

/** Builds the JSON document that `check --json` prints. */
export function checkReport(result: CheckResult) {
  return {
    runAt: new Date(result.runAtMs).toISOString(),
    runId: result.runId,
    timezone: result.timezone,
    dayConvention: result.dayConvention,
    dryRun: result.dryRun,
    projects: result.projects.map(projectReport),
    account: result.account && {
      dataStatus: result.account.dataStatus,
      days: dayReports(
        result.account.periods,
        result.account.spend.newestBucketMs !== null,
      ),
      month: monthReport(
        result.account.periods,
        result.account.spend.newestBucketMs !== null,
      ),
      level: result.account.level,
      notifications: result.account.notifications,
    },
    warnings: result.warnings,
    queuedNotifications: result.queuedNotifications,
    errors: result.errors,
    error: result.fatal,
  };
}

function projectReport(outcome: ProjectOutcome) {
  const { evaluation } = outcome;

  return {
    id: evaluation.id,
    name: evaluation.name,
    dataStatus: evaluation.spend.dataStatus,
    dataReason: evaluation.spend.reason,
    budgetSource: evaluation.budgetSource,
    days: dayReports(
      evaluation.periods,
      evaluation.spend.newestBucketMs !== null,
    ),
    month: monthReport(
      evaluation.periods,
      evaluation.spend.newestBucketMs !== null,
    ),
    level: evaluation.level,
    notifications: outcome.notifications,
    action: outcome.action,
    error: outcome.error,
  };
}

/**
 * Spend as reported: null when there is no data at all, so that missing
 * data never reads as zero.
 */
function spentOf(kopecks: number, hasData: boolean): number | null {
  return hasData ? kopecksToRubles(kopecks) : null;
}

function dayReports(periods: PeriodResult[], hasData: boolean) {
  return periods
    .filter((period) => period.kind === 'day')
    .map((period) => ({
      date: period.key,
      spent: spentOf(period.spentKopecks, hasData),
      limit: rubles(period.limitKopecks),
      complete: period.complete,
      level: period.level,
    }));
}

function monthReport(periods: PeriodResult[], hasData: boolean) {
  const month = periods.find((period) => period.kind === 'month');
  const forecast = periods.find((period) => period.kind === 'forecast');

  return {
    month: month?.key ?? '',
    spent: spentOf(month?.spentKopecks ?? 0, hasData),
    limit: rubles(month?.limitKopecks ?? null),
    forecast:
      forecast && forecast.spentKopecks > 0
        ? kopecksToRubles(forecast.spentKopecks)
        : null,
    forecastLevel: forecast?.level ?? 'ok',
    level: month?.level ?? 'ok',
  };
}

/** Renders a check result as a readable table followed by notes. */
export function checkTable(result: CheckResult): string {
  const lines = [
    `Budget check at ${new Date(result.runAtMs).toISOString()}${result.dryRun ? ' (dry run: nothing written or sent)' : ''}`,
    `Days: ${result.dayConvention}`,
  ];
  if (result.fatal) return [...lines, `ERROR: ${result.fatal}`].join('\n');
  const header = [
    'PROJECT',
    'DATA',
    'YESTERDAY',
    'TODAY',
    'MONTH',
    'FORECAST',
    'LEVEL',
    'ACTION',
  ];
  const rows = result.projects.map((outcome) => {
    const { evaluation } = outcome;
    const [yesterday, today, month, forecast] = evaluation.periods as [
      PeriodResult,
      PeriodResult,
      PeriodResult,
      PeriodResult,
    ];
    const hasData = evaluation.spend.newestBucketMs !== null;
    return [
      truncate(evaluation.name, 28),
      evaluation.spend.dataStatus,
      amount(yesterday, hasData),
      amount(today, hasData),
      amount(month, hasData),
      forecast.spentKopecks > 0 ? formatRubles(forecast.spentKopecks) : '-',
      evaluation.level,
      actionLabel(outcome.action),
    ];
  });
  if (result.account) {
    const [yesterday, today, month, forecast] = result.account.periods as [
      PeriodResult,
      PeriodResult,
      PeriodResult,
      PeriodResult,
    ];
    const hasData = result.account.spend.newestBucketMs !== null;
    rows.push([
      '(account total)',
      result.account.dataStatus,
      amount(yesterday, hasData),
      amount(today, hasData),
      amount(month, hasData),
      forecast.spentKopecks > 0 ? formatRubles(forecast.spentKopecks) : '-',
      result.account.level,
      '-',
    ]);
  }
  lines.push('', ...table([header, ...rows]));
  const notes = result.projects.flatMap((outcome) => [
    ...(outcome.error ? [`${outcome.evaluation.name}: ${outcome.error}`] : []),
    ...(outcome.action &&
    ['partial', 'failed'].includes(outcome.action.status) &&
    outcome.action.reason
      ? [
          `${outcome.evaluation.name}: cut ${outcome.action.status}: ${outcome.action.reason}`,
        ]
      : []),
  ]);
  const sent = [
    ...result.projects.flatMap((outcome) => outcome.notifications),
    ...(result.account?.notifications ?? []),
  ];
  lines.push(
    '',
    sent.length === 0
      ? 'No new notifications.'
      : `Notifications (${sent.length}):`,
  );
  for (const notification of sent) {
    const state = notification.error
      ? ` FAILED: ${notification.error}`
      : notification.dryRun
        ? ' (dry run, not sent)'
        : '';
    lines.push(`  ${notification.subject}${state}`);
  }
  for (const warning of result.warnings) lines.push(`warning: ${warning}`);
  for (const note of notes) lines.push(`error: ${note}`);
  if (result.errors > 0) lines.push(`${result.errors} error(s); exit status 1`);

  return lines.join('\n');
}

/** Labels the ACTION column: the status, or what a dry run would do. */
function actionLabel(action: ProjectOutcome['action']): string {
  if (!action) return '-';
  if (action.status === 'refused') return 'refused (protected)';
  if (action.reason?.startsWith('dry run')) return `would cut (${action.mode})`;

  return action.status;
}

function amount(period: PeriodResult, hasData: boolean): string {
  const spent = hasData ? formatRubles(period.spentKopecks) : '-';
  const limit =
    period.limitKopecks === null
      ? ''
      : ` / ${formatRubles(period.limitKopecks)}`;

  return `${spent}${limit}`;
}

/** Pads columns by code points, which suits Latin and Cyrillic names. */
export function table(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, index) => {
      widths[index] = Math.max(widths[index] ?? 0, [...cell].length);
    });
  }

  return rows.map((row) =>
    row
      .map(
        (cell, index) =>
          cell + ' '.repeat((widths[index] ?? 0) - [...cell].length),
      )
      .join('  ')
      .trimEnd(),
  );
}

function truncate(text: string, max: number): string {
  const chars = [...text];

  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}
