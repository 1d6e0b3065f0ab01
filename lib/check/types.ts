import type { EffectiveBudget, BudgetSource } from '../config/budgets.js';
import type { Level } from '../costs/levels.js';
import type { DataStatus, Spend } from '../costs/spend.js';
import type { CutMode } from '../state/types.js';

export const ACTION_STATUSES = [
  'requested',
  'pending_approval',
  'done',
  'partial',
  'skipped',
  'refused',
  'failed',
] as const;
export type ActionStatus = (typeof ACTION_STATUSES)[number];

/** What happened, or was asked for, about cutting a project. */
export interface ActionOutcome {
  type: 'cut';
  mode: CutMode;
  status: ActionStatus;
  reason?: string;
  requestId?: string;
  snapshotId?: string;
}

export type PeriodKind = 'day' | 'month' | 'forecast';

/** One budget period of a project with its spend, limit and level. */
export interface PeriodResult {
  kind: PeriodKind;
  /** `YYYY-MM-DD` for days, `YYYY-MM` for the month and the forecast. */
  key: string;
  spentKopecks: number;
  limitKopecks: number | null;
  level: Level;
  complete: boolean;
}

/** A notification this run sent, tried to send, or in a dry run would send. */
export interface SentNotification {
  period: 'day' | 'month' | 'forecast' | 'data' | 'config';
  level: string;
  subject: string;
  event: string;
  /** Present when the send failed; the next run sends it again. */
  error?: string;
  dryRun?: boolean;
}

/** A project's evaluation before any notification or action. */
export interface ProjectEvaluation {
  id: string;
  name: string;
  budget: EffectiveBudget;
  budgetSource: BudgetSource;
  spend: Spend;
  periods: PeriodResult[];
  level: Level;
}

export interface ProjectOutcome {
  evaluation: ProjectEvaluation;
  notifications: SentNotification[];
  action: ActionOutcome | null;
  error: string | null;
}

export interface AccountOutcome {
  dataStatus: DataStatus;
  spend: Spend;
  periods: PeriodResult[];
  level: Level;
  notifications: SentNotification[];
}

/** Everything a check run found and did. */
export interface CheckResult {
  runId: string;
  runAtMs: number;
  timezone: string;
  dayConvention: string;
  dryRun: boolean;
  projects: ProjectOutcome[];
  account: AccountOutcome | null;
  warnings: string[];
  /** Notifications that earlier sends left queued, sent again by this run. */
  queuedNotifications: { sent: number; failed: number };
  /** Set when the run could not read the project list at all. */
  fatal: string | null;
  errors: number;
}
