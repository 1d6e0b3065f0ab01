import { randomBytes } from 'node:crypto';
import { NotificationQueue } from './queue.js';
import { type Item, type ItemStore, isExpired } from './items.js';
import type {
  AlertRecord,
  AuditEntry,
  PendingApproval,
  Snapshot,
} from './types.js';

const DAY_S = 86_400;
/** How long alert marks are kept: longer than any period they dedupe. */
const ALERT_TTL_S = 70 * DAY_S;
const AUDIT_TTL_S = 400 * DAY_S;

export interface AlertClaim {
  /** `project#<id>` or `account#<number>`. */
  subject: string;
  /** Such as `day:2026-12-04`, `month:2026-12`, `data:2026-12-04:stale`. */
  period: string;
  /** Rank of the level being claimed; higher ranks supersede lower ones. */
  rank: number;
  runId: string;
  nowMs: number;
  /** A claim still pending after this long is taken to be from a dead run. */
  leaseMs: number;
  /** Keep the mark forever (for once-only notices). */
  permanent?: boolean;
}

/**
 * Guard state: alert marks, quota snapshots, the audit trail, locks and
 * request results, on any `ItemStore`. Every write that decides something is
 * conditional, so concurrent runs agree on one winner.
 */
export class StateStore {
  /** Notifications whose send failed, waiting for the next run. */
  readonly queue: NotificationQueue;

  constructor(readonly items: ItemStore) {
    this.queue = new NotificationQueue(items);
  }

  // ---- alert marks

  /**
   * Claims the right to send one notification. It succeeds when no mark
   * exists, when the mark has a lower rank, when its send failed, or when
   * its claim is pending past the lease; exactly one concurrent caller wins.
   */
  async claimAlert(claim: AlertClaim): Promise<boolean> {
    const stored = await this.items.get(claim.subject, `alert#${claim.period}`);
    const existing =
      stored && !isExpired(stored, claim.nowMs) ? toAlert(stored) : undefined;
    if (existing && !supersedes(claim, existing)) return false;
    const version = stored ? Number(stored.version) : 0;
    const record: Item = {
      pk: claim.subject,
      sk: `alert#${claim.period}`,
      rank: Math.max(claim.rank, existing?.rank ?? 0),
      status: 'pending',
      runId: claim.runId,
      claimedAt: claim.nowMs,
      version: version + 1,
      ...(claim.permanent
        ? {}
        : { expiresAt: Math.floor(claim.nowMs / 1000) + ALERT_TTL_S }),
    };

    return this.items.put(
      record,
      stored ? { equals: ['version', version] } : { attributeNotExists: true },
    );
  }

  /** Records how the send of a claimed notification ended. */
  async settleAlert(
    subject: string,
    period: string,
    runId: string,
    outcome: 'sent' | 'failed',
  ): Promise<boolean> {
    const existing = await this.items.get(subject, `alert#${period}`);
    if (!existing || existing.runId !== runId) return false;

    return this.items.put(
      { ...existing, status: outcome, version: Number(existing.version) + 1 },
      { equals: ['version', Number(existing.version)] },
    );
  }

  /**
   * Marks a claimed period as failed so that the next run claims it again,
   * as when the quota-action function could not carry out a requested cut.
   * Returns false when there is no mark or another writer changed it.
   */
  async reopenAlert(subject: string, period: string): Promise<boolean> {
    const existing = await this.items.get(subject, `alert#${period}`);
    if (!existing) return false;
    const version = Number(existing.version);

    return this.items.put(
      { ...existing, status: 'failed', version: version + 1 },
      { equals: ['version', version] },
    );
  }

  /** Reads an alert mark, ignoring one past its expiry. */
  async getAlert(
    subject: string,
    period: string,
    nowMs = Date.now(),
  ): Promise<AlertRecord | undefined> {
    const item = await this.items.get(subject, `alert#${period}`);

    return item && !isExpired(item, nowMs) ? toAlert(item) : undefined;
  }

  // ---- quota snapshots

  async getSnapshot(projectId: string): Promise<Snapshot | undefined> {
    const item = await this.items.get(projectKey(projectId), 'snapshot');

    return item ? fromItem<Snapshot>(item) : undefined;
  }

  /**
   * Saves a new snapshot unless an unrestored one exists; a restored one is
   * first copied to the history so nothing is lost. Returns the snapshot
   * that is in force afterwards.
   */
  async createSnapshot(
    snapshot: Omit<Snapshot, 'version'>,
  ): Promise<{ created: boolean; snapshot: Snapshot }> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const existing = await this.getSnapshot(snapshot.projectId);
      if (existing && existing.status !== 'restored') {
        return { created: false, snapshot: existing };
      }
      if (existing) await this.archiveSnapshot(existing);
      const fresh: Snapshot = { ...snapshot, version: 1 };
      const written = await this.items.put(
        toItem(projectKey(snapshot.projectId), 'snapshot', fresh),
        existing
          ? {
              and: [
                { equals: ['snapshotId', existing.snapshotId] },
                { equals: ['status', 'restored'] },
              ],
            }
          : { attributeNotExists: true },
      );
      if (written) return { created: true, snapshot: fresh };
    }
    throw new Error(
      `snapshot of project ${snapshot.projectId} kept changing; try again`,
    );
  }

  /**
   * Updates the snapshot in force if it is still the one the caller read
   * (same id and version). Returns the new snapshot, or undefined if another
   * writer got there first.
   */
  async updateSnapshot(
    current: Snapshot,
    changes: Partial<
      Omit<Snapshot, 'projectId' | 'snapshotId' | 'version' | 'quotas'>
    >,
  ): Promise<Snapshot | undefined> {
    const next = withoutUndefined<Snapshot>({
      ...current,
      ...changes,
      version: current.version + 1,
    });
    const written = await this.items.put(
      toItem(projectKey(current.projectId), 'snapshot', next),
      {
        and: [
          { equals: ['snapshotId', current.snapshotId] },
          { equals: ['version', current.version] },
        ],
      },
    );

    return written ? next : undefined;
  }

  /** Earlier, restored snapshots of a project, newest first. */
  async snapshotHistory(projectId: string, limit = 20): Promise<Snapshot[]> {
    const items = await this.items.query(projectKey(projectId), 'snapshot#', {
      limit,
      descending: true,
    });

    return items.map((item) => fromItem<Snapshot>(item));
  }

  private async archiveSnapshot(snapshot: Snapshot): Promise<void> {
    const sk = `snapshot#${snapshot.takenAt}#${snapshot.snapshotId}`;
    await this.items.put(toItem(projectKey(snapshot.projectId), sk, snapshot), {
      attributeNotExists: true,
    });
  }

  // ---- audit trail

  async appendAudit(entry: AuditEntry): Promise<void> {
    const sk = `audit#${entry.at}#${randomBytes(4).toString('hex')}`;
    const expiresAt = Math.floor(Date.parse(entry.at) / 1000) + AUDIT_TTL_S;
    await this.items.put(
      toItem(projectKey(entry.projectId), sk, { ...entry, expiresAt }),
    );
  }

  /** Audit entries of a project, newest first. */
  async listAudit(projectId: string, limit = 50): Promise<AuditEntry[]> {
    const items = await this.items.query(projectKey(projectId), 'audit#', {
      limit,
      descending: true,
    });

    return items.map((item) => {
      const { expiresAt: _expiresAt, ...entry } = fromItem<
        AuditEntry & { expiresAt?: number }
      >(item);
      return entry;
    });
  }

  // ---- locks

  /** Takes a named lock for `ttlMs`; false while another owner holds it. */
  async acquireLock(
    name: string,
    owner: string,
    nowMs: number,
    ttlMs: number,
  ): Promise<boolean> {
    return this.items.put(
      {
        pk: `lock#${name}`,
        sk: 'lock',
        owner,
        expiresAtMs: nowMs + ttlMs,
        expiresAt: Math.ceil((nowMs + ttlMs) / 1000) + 60,
      },
      {
        or: [
          { attributeNotExists: true },
          { lessThan: ['expiresAtMs', nowMs] },
          { equals: ['owner', owner] },
        ],
      },
    );
  }

  async releaseLock(name: string, owner: string): Promise<void> {
    await this.items.delete(`lock#${name}`, 'lock', {
      equals: ['owner', owner],
    });
  }

  // ---- request results and replay marks

  async getResult<T>(
    requestId: string,
    nowMs = Date.now(),
  ): Promise<T | undefined> {
    const item = await this.items.get(`request#${requestId}`, 'result');
    if (!item || isExpired(item, nowMs)) return undefined;

    return JSON.parse(String(item.result)) as T;
  }

  /** Stores a request's result once; false when one is already stored. */
  async putResult(
    requestId: string,
    result: unknown,
    nowMs: number,
    ttlMs: number,
  ): Promise<boolean> {
    return this.items.put(
      {
        pk: `request#${requestId}`,
        sk: 'result',
        result: JSON.stringify(result),
        expiresAt: Math.ceil((nowMs + ttlMs) / 1000),
        expiresAtMs: nowMs + ttlMs,
      },
      {
        or: [
          { attributeNotExists: true },
          { lessThan: ['expiresAtMs', nowMs] },
        ],
      },
    );
  }

  /** Records a one-time value such as a webhook signature; false if seen. */
  async rememberOnce(
    key: string,
    nowMs: number,
    ttlMs: number,
  ): Promise<boolean> {
    return this.items.put(
      {
        pk: `once#${key}`,
        sk: 'once',
        expiresAtMs: nowMs + ttlMs,
        expiresAt: Math.ceil((nowMs + ttlMs) / 1000),
      },
      {
        or: [
          { attributeNotExists: true },
          { lessThan: ['expiresAtMs', nowMs] },
        ],
      },
    );
  }

  // ---- pending approvals

  async putPendingApproval(approval: PendingApproval): Promise<void> {
    await this.items.put(
      toItem(projectKey(approval.projectId), 'pending-cut', approval),
    );
  }

  async getPendingApproval(
    projectId: string,
  ): Promise<PendingApproval | undefined> {
    const item = await this.items.get(projectKey(projectId), 'pending-cut');

    return item ? fromItem<PendingApproval>(item) : undefined;
  }

  async clearPendingApproval(projectId: string): Promise<void> {
    await this.items.delete(projectKey(projectId), 'pending-cut');
  }
}

export function projectKey(projectId: string): string {
  return `project#${projectId}`;
}

function supersedes(claim: AlertClaim, existing: AlertRecord): boolean {
  if (claim.rank > existing.rank) return true;
  if (existing.status === 'failed') return true;

  return (
    existing.status === 'pending' &&
    claim.nowMs - existing.claimedAt > claim.leaseMs
  );
}

function toAlert(item: Item): AlertRecord {
  return {
    rank: Number(item.rank),
    status: item.status as AlertRecord['status'],
    runId: String(item.runId),
    claimedAt: Number(item.claimedAt),
    version: Number(item.version),
  };
}

function toItem(pk: string, sk: string, value: object): Item {
  return { ...(value as Record<string, unknown>), pk, sk };
}

/** Drops keys whose value is undefined, which DynamoDB cannot store. */
function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(
    Object.entries(value).filter(([, entry]) => entry !== undefined),
  ) as T;
}

function fromItem<T>(item: Item): T {
  const { pk: _pk, sk: _sk, ...rest } = item;

  return rest as T;
}
