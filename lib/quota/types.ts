import type {
  AuditEntry,
  CutMode,
  PendingApproval,
  Snapshot,
} from '../state/types.js';
import type { QuotaValue } from '../selectel/quotas.js';

export type QuotaAction = 'cut' | 'restore' | 'status';
export type ActionSource = AuditEntry['source'];

/** A request to cut, restore or inspect one project's quotas. */
export interface ActionRequest {
  action: QuotaAction;
  /** Project id (32 hex digits) or name. */
  project: string;
  mode?: CutMode;
  dryRun?: boolean;
  /** Repeats of one id apply once; generated when absent. */
  requestId?: string;
  source: ActionSource;
  /** Who asked: a user name, `check`, or the webhook caller. */
  actor: string;
  reason?: string;
  /**
   * For cuts the check requested: the crossed period (`day:2026-12-04`).
   * The project's spend is read again and the cut is skipped unless that
   * period is still at its cut level with data `ok`.
   */
  period?: string;
  /** Instant the re-check evaluates; now when absent. */
  asOfMs?: number;
}

/** One quota as changed, or as a dry run would change it. */
export interface QuotaChange {
  region: string;
  zone: string | null;
  resource: string;
  before: number | null;
  after: number;
  ok: boolean;
  error?: string;
}

export type ActionResultStatus =
  | 'done'
  | 'partial'
  | 'skipped'
  | 'refused'
  | 'failed';

/** The result of a quota action, as the CLI and the webhook return it. */
export interface ActionResult {
  project: { id: string; name: string };
  action: QuotaAction;
  mode: CutMode | null;
  status: ActionResultStatus;
  dryRun: boolean;
  requestId: string;
  reason?: string;
  changes: QuotaChange[];
  snapshot: Snapshot | null;
  /** Set when a stored result of the same request id was returned. */
  replayed?: boolean;
  /** `status` only: quotas as they are now, the pending approval and the audit trail. */
  current?: QuotaValue[];
  pendingApproval?: PendingApproval | null;
  audit?: AuditEntry[];
}
