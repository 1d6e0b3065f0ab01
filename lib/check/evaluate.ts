import { budgetFor, toBasisPoints, toKopecks } from '../config/budgets.js';
import type { Config } from '../config/schema.js';
import type { DayConvention } from '../costs/calendar.js';
import {
  forecastLevel,
  type Level,
  levelFor,
  maxLevel,
} from '../costs/levels.js';
import {
  evaluateSpend,
  type SourceSeries,
  type Spend,
} from '../costs/spend.js';
import type { PeriodResult, ProjectEvaluation } from './types.js';

export interface EvaluationContext {
  config: Config;
  convention: DayConvention;
  runAtMs: number;
}

/** Evaluates one project: spend per period, budget, level of each period. */
export function evaluateProject(
  context: EvaluationContext,
  project: { id: string; name: string },
  sources: readonly SourceSeries[],
): ProjectEvaluation {
  const { budget, source } = budgetFor(context.config, project);
  const spend = spendOf(context, sources);
  const periods = periodsOf(spend, {
    dailyKopecks: budget.dailyKopecks,
    monthlyKopecks: budget.monthlyKopecks,
    warnBasisPoints: budget.warnBasisPoints,
    cutBasisPoints: budget.cutBasisPoints,
  });

  return {
    id: project.id,
    name: project.name,
    budget,
    budgetSource: source,
    spend,
    periods,
    level: maxLevel(periods.map((period) => period.level)),
  };
}

/** Evaluates the account-wide budget, which never has a cut level. */
export function evaluateAccount(
  context: EvaluationContext,
  sources: readonly SourceSeries[],
): { spend: Spend; periods: PeriodResult[]; level: Level } | null {
  const account = context.config.budgets.account;
  if (!account) return null;
  const spend = spendOf(context, sources);
  const periods = periodsOf(spend, {
    dailyKopecks: account.daily == null ? null : toKopecks(account.daily),
    monthlyKopecks: account.monthly == null ? null : toKopecks(account.monthly),
    warnBasisPoints: toBasisPoints(account.warnAt ?? 0.8),
    cutBasisPoints: null,
  });

  return {
    spend,
    periods,
    level: maxLevel(periods.map((period) => period.level)),
  };
}

function spendOf(
  context: EvaluationContext,
  sources: readonly SourceSeries[],
): Spend {
  return evaluateSpend({
    runAtMs: context.runAtMs,
    convention: context.convention,
    granularitySeconds: context.config.costs.granularity,
    staleAfterMs: context.config.costs.staleAfterHours * 3_600_000,
    sources,
  });
}

interface Limits {
  dailyKopecks: number | null;
  monthlyKopecks: number | null;
  warnBasisPoints: number;
  cutBasisPoints: number | null;
}

function periodsOf(spend: Spend, limits: Limits): PeriodResult[] {
  const level = (spent: number, limit: number | null) =>
    levelFor(spent, limit, limits.warnBasisPoints, limits.cutBasisPoints);
  const days = spend.days.map(
    (day): PeriodResult => ({
      kind: 'day',
      key: day.date,
      spentKopecks: day.spentKopecks,
      limitKopecks: limits.dailyKopecks,
      level: level(day.spentKopecks, limits.dailyKopecks),
      complete: day.complete,
    }),
  );
  const month: PeriodResult = {
    kind: 'month',
    key: spend.month.month,
    spentKopecks: spend.month.spentKopecks,
    limitKopecks: limits.monthlyKopecks,
    level: level(spend.month.spentKopecks, limits.monthlyKopecks),
    complete: false,
  };
  const forecast: PeriodResult = {
    kind: 'forecast',
    key: spend.month.month,
    spentKopecks: spend.month.forecastKopecks ?? 0,
    limitKopecks: limits.monthlyKopecks,
    level: forecastLevel(spend.month.forecastKopecks, limits.monthlyKopecks),
    complete: false,
  };

  return [...days, month, forecast];
}
