import type { QuotaTarget } from '../selectel/quotas.js';

/** A notification mark: the highest level claimed for a period, and its send. */
export interface AlertRecord {
  rank: number;
  status: 'pending' | 'sent' | 'failed';
  runId: string;
  claimedAt: number;
  version: number;
}

/** One quota as saved before a cut. */
export interface SnapshotQuota {
  region: string;
  zone: string | null;
  resource: string;
  value: number;
  used: number | null;
}

export type CutMode = 'freeze' | 'zero';
export type ApplyStatus = 'applying' | 'done' | 'partial' | 'failed';

/**
 * The quotas a cut replaced, kept until a restore puts them back. Only one
 * snapshot per project is in force; it is never overwritten while active.
 */
export interface Snapshot {
  projectId: string;
  projectName: string;
  snapshotId: string;
  takenAt: string;
  /** `active` until a restore has put every quota back. */
  status: 'active' | 'restored';
  mode: CutMode;
  quotas: SnapshotQuota[];
  requestId: string;
  cutStatus: ApplyStatus;
  /** Entries the last cut did not apply; a retry sends only these. */
  cutPending: QuotaTarget[];
  restoreStatus?: ApplyStatus;
  /** Entries the last restore did not apply; a retry sends only these. */
  restorePending?: QuotaTarget[];
  restoredAt?: string;
  version: number;
}

/** One line of the audit trail: who did what to a project, why, before and after. */
export interface AuditEntry {
  at: string;
  projectId: string;
  projectName: string;
  action: 'cut' | 'restore' | 'status' | 'check';
  source: 'check' | 'webhook' | 'cli' | 'event';
  actor: string;
  reason: string;
  requestId: string;
  status: string;
  dryRun: boolean;
  changes: {
    region: string;
    zone: string | null;
    resource: string;
    before: number | null;
    after: number;
    ok: boolean;
    error?: string;
  }[];
  snapshotId?: string;
  detail?: string;
}

/** A cut waiting for a person's approval. */
export interface PendingApproval {
  projectId: string;
  projectName: string;
  period: string;
  requestedAt: string;
  mode: CutMode;
  spentKopecks: number;
  limitKopecks: number;
}
