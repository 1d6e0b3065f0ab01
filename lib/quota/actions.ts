import { randomUUID } from 'node:crypto';
import { budgetFor } from '../config/budgets.js';
import type { Config } from '../config/schema.js';
import { errorDetails } from '../check/collect.js';
import { evaluateOneProject } from '../check/single.js';
import type { Log } from '../log.js';
import type { Notifier } from '../notify/port.js';
import type { SelectelClient } from '../selectel/client.js';
import type {
  QuotaReadResult,
  QuotaTarget,
  QuotaValue,
} from '../selectel/quotas.js';
import type { StateStore } from '../state/store.js';
import type { CutMode, Snapshot } from '../state/types.js';
import { QuotaActionError } from './errors.js';
import {
  cutTargets,
  plannedChanges,
  restoreTargets,
  verifyChanges,
} from './plan.js';
import {
  auditEntry,
  notifyResult,
  resolveProject,
  writeAudit,
} from './records.js';
import type { ActionRequest, ActionResult, QuotaChange } from './types.js';

export interface QuotaActionDeps {
  config: Config;
  selectel: SelectelClient;
  store: StateStore;
  notifier: Notifier;
  log: Log;
  now?: () => number;
}

/** Results of finished requests are kept this long for repeats of the same id. */
const RESULT_TTL_MS = 24 * 3_600_000;
/** Maximum time a quota action holds its project's lock. */
const LOCK_TTL_MS = 5 * 60_000;

type Project = { id: string; name: string };

/**
 * Cuts, restores and reports one project's quotas. Every cut saves the
 * quotas it replaces first, with a conditional write that never replaces an
 * unrestored snapshot, and every change is read back and audited.
 */
export class QuotaActions {
  private readonly now: () => number;

  constructor(private readonly deps: QuotaActionDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Runs a request once per request id; see `ActionRequest`. */
  async execute(request: ActionRequest): Promise<ActionResult> {
    const requestId = request.requestId ?? randomUUID();
    const dryRun = request.dryRun ?? false;
    const writes = !dryRun && request.action !== 'status';
    if (writes) {
      const stored = await this.deps.store.getResult<ActionResult>(
        requestId,
        this.now(),
      );
      if (stored) return { ...sameRequest(stored, request), replayed: true };
    }
    const project = await resolveProject(this.deps.selectel, request.project);
    if (request.action === 'status') return this.status(project, requestId);
    const lockOwner = `${requestId}:${randomUUID()}`;
    const locked =
      dryRun ||
      (await this.deps.store.acquireLock(
        `project#${project.id}`,
        lockOwner,
        this.now(),
        LOCK_TTL_MS,
      ));
    if (!locked) {
      return this.finish(request, {
        ...empty(project, request, requestId),
        status: 'skipped',
        reason:
          'another quota action on this project is in progress; try again shortly',
      });
    }
    try {
      const result =
        request.action === 'cut'
          ? await this.cut(project, request, requestId)
          : await this.restore(project, request, requestId);
      return await this.finish(request, result);
    } finally {
      if (!dryRun)
        await this.deps.store.releaseLock(`project#${project.id}`, lockOwner);
    }
  }

  private async cut(
    project: Project,
    request: ActionRequest,
    requestId: string,
  ): Promise<ActionResult> {
    const { budget } = budgetFor(this.deps.config, project);
    const mode: CutMode =
      request.mode ?? (budget.action === 'zero' ? 'zero' : 'freeze');
    const base = { ...empty(project, request, requestId), mode };
    if (budget.action === 'none') {
      return {
        ...base,
        status: 'refused',
        reason: 'the project is protected (action: none) and is never cut',
      };
    }
    if (request.period) {
      const skip = await this.recheck(
        project,
        request.period,
        request.asOfMs ?? this.now(),
      );
      if (skip) return { ...base, status: 'skipped', reason: skip };
    }
    const read = await this.deps.selectel.quotas.read(project.id);
    const unread = [
      ...read.unreadRegions.map(
        (item) => `region ${item.region} (${item.message})`,
      ),
      ...read.failed.map(
        (entry) => `${entry.region}/${entry.zone ?? '-'}/${entry.resource}`,
      ),
    ];
    if (unread.length > 0) {
      // A cut never goes ahead on quotas it could not read and save.
      return {
        ...base,
        status: 'failed',
        reason: `reading quotas failed for ${unread.join(', ')}; nothing was changed`,
      };
    }
    const existing = await this.deps.store.getSnapshot(project.id);
    const active = existing?.status === 'active' ? existing : undefined;
    // Worked out from the quotas as they are now, so a retry sends only the
    // entries still above their target, in the mode asked for this time.
    const targets = cutTargets(read.quotas, mode);
    if (request.dryRun) {
      return {
        ...base,
        status: 'done',
        changes: plannedChanges(targets, read.quotas),
        snapshot: active ?? null,
      };
    }
    const snapshot =
      active ??
      (await this.saveSnapshot(project, read.quotas, mode, requestId, targets));
    if (targets.length === 0) {
      const done = await this.recordCut(snapshot, 'done', []);
      return {
        ...base,
        status: 'done',
        snapshot: done,
        reason: active
          ? 'already cut; no quota differs from its cut value'
          : 'no quota above its target',
      };
    }
    const changes = await this.apply(project.id, targets, read.quotas);
    const failed = targets.filter((_, index) => !changes[index]?.ok);
    const status =
      failed.length === 0
        ? 'done'
        : failed.length === targets.length
          ? 'failed'
          : 'partial';
    const updated = await this.recordCut(snapshot, status, failed);

    return {
      ...base,
      status,
      changes,
      snapshot: updated,
      ...(active ? { reason: 'applied to the snapshot already in force' } : {}),
    };
  }

  private async restore(
    project: Project,
    request: ActionRequest,
    requestId: string,
  ): Promise<ActionResult> {
    const snapshot = await this.deps.store.getSnapshot(project.id);
    const base = empty(project, request, requestId);
    if (!snapshot || snapshot.status !== 'active') {
      return {
        ...base,
        status: 'skipped',
        snapshot: snapshot ?? null,
        reason: 'no unrestored snapshot; nothing to restore',
      };
    }
    const read = await this.readForRestore(project.id);
    // Every saved entry that differs from its current value, and every entry
    // of a region that could not be read: restoring sets absolute values, so
    // sending one that is already right changes nothing.
    const targets = restoreTargets(
      snapshot.quotas,
      read.quotas,
      read.unreadRegions,
    );
    const withMode = { ...base, mode: snapshot.mode, snapshot };
    if (request.dryRun)
      return {
        ...withMode,
        status: 'done',
        changes: plannedChanges(targets, read.quotas),
      };
    const changes =
      targets.length > 0
        ? await this.apply(project.id, targets, read.quotas)
        : [];
    const failed = targets.filter((_, index) => !changes[index]?.ok);
    const status =
      failed.length === 0
        ? 'done'
        : failed.length === targets.length
          ? 'failed'
          : 'partial';
    const updated = await this.deps.store.updateSnapshot(snapshot, {
      restoreStatus: status,
      restorePending: failed,
      ...(status === 'done'
        ? { status: 'restored', restoredAt: new Date(this.now()).toISOString() }
        : {}),
    });
    if (!updated)
      throw new Error(
        `snapshot of project ${project.id} changed during the restore; run status and try again`,
      );
    const reason =
      failed.length > 0
        ? `Selectel rejected ${failed.length} of ${targets.length} entries; the snapshot stays in force and a retry sends only those`
        : undefined;

    return {
      ...withMode,
      status,
      changes,
      snapshot: updated,
      ...(reason ? { reason } : {}),
    };
  }

  /** Reads the current quotas; a read that fails as a whole leaves every region unread. */
  private async readForRestore(projectId: string): Promise<QuotaReadResult> {
    try {
      return await this.deps.selectel.quotas.read(projectId);
    } catch (error) {
      const regions = await this.deps.selectel.quotas.regions();
      const message = error instanceof Error ? error.message : String(error);
      return {
        quotas: [],
        failed: [],
        unreadRegions: regions.map((region) => ({ region, message })),
      };
    }
  }

  private async status(
    project: Project,
    requestId: string,
  ): Promise<ActionResult> {
    const [snapshot, read, audit, pendingApproval] = await Promise.all([
      this.deps.store.getSnapshot(project.id),
      this.deps.selectel.quotas.read(project.id),
      this.deps.store.listAudit(project.id, 20),
      this.deps.store.getPendingApproval(project.id),
    ]);

    return {
      project,
      action: 'status',
      mode: snapshot?.mode ?? null,
      status: 'done',
      dryRun: false,
      requestId,
      changes: [],
      snapshot: snapshot ?? null,
      current: read.quotas,
      pendingApproval: pendingApproval ?? null,
      audit,
    };
  }

  /** Returns why an automatic cut must not go ahead, or undefined. */
  private async recheck(
    project: Project,
    period: string,
    asOfMs: number,
  ): Promise<string | undefined> {
    const evaluation = await evaluateOneProject(
      this.deps.selectel,
      this.deps.config,
      project,
      asOfMs,
    );
    if (evaluation.spend.dataStatus !== 'ok') {
      return `data is ${evaluation.spend.dataStatus}${evaluation.spend.reason ? ` (${evaluation.spend.reason})` : ''}; no cut on data that is not ok`;
    }
    const current = evaluation.periods.find(
      (item) => `${item.kind}:${item.key}` === period,
    );
    if (!current) return `period ${period} is no longer current`;
    if (current.level !== 'cut')
      return `${period} is at level ${current.level} now, below its cut level`;

    return undefined;
  }

  private async saveSnapshot(
    project: Project,
    quotas: QuotaValue[],
    mode: CutMode,
    requestId: string,
    targets: QuotaTarget[],
  ): Promise<Snapshot> {
    const { snapshot } = await this.deps.store.createSnapshot({
      projectId: project.id,
      projectName: project.name,
      snapshotId: randomUUID(),
      takenAt: new Date(this.now()).toISOString(),
      status: 'active',
      mode,
      quotas: quotas.map((quota) => ({ ...quota })),
      requestId,
      cutStatus: 'applying',
      // Until the PATCH is confirmed every target counts as pending, so a
      // process that dies here leaves a retry that sends them again.
      cutPending: targets,
    });

    return snapshot;
  }

  private async recordCut(
    snapshot: Snapshot,
    status: Snapshot['cutStatus'],
    pending: QuotaTarget[],
  ): Promise<Snapshot> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const current =
        attempt === 0
          ? snapshot
          : await this.deps.store.getSnapshot(snapshot.projectId);
      if (!current || current.snapshotId !== snapshot.snapshotId) break;
      // A new cut supersedes the result of any earlier, partial restore.
      const updated = await this.deps.store.updateSnapshot(current, {
        cutStatus: status,
        cutPending: pending,
        restorePending: [],
        restoreStatus: undefined,
      });
      if (updated) return updated;
    }
    throw new Error(
      `snapshot of project ${snapshot.projectId} changed during the cut; run status and try again`,
    );
  }

  /** Sends the targets, reads the quotas back and reports each entry. */
  private async apply(
    projectId: string,
    targets: QuotaTarget[],
    before: QuotaValue[],
  ): Promise<QuotaChange[]> {
    const patched = await this.deps.selectel.quotas.patch(projectId, targets);
    let readBack: QuotaValue[] | null = null;
    let unreadRegions: string[] = [];
    try {
      const read = await this.deps.selectel.quotas.read(projectId);
      readBack = read.failed.length === 0 ? read.quotas : null;
      unreadRegions = read.unreadRegions.map((item) => item.region);
    } catch (error) {
      this.deps.log.warn('reading quotas back failed', {
        projectId,
        error: errorDetails(error),
      });
    }

    return verifyChanges(
      targets,
      before,
      patched.failed,
      readBack,
      unreadRegions,
    );
  }

  /** Audits, notifies and stores the result of a cut or restore. */
  private async finish(
    request: ActionRequest,
    result: ActionResult,
  ): Promise<ActionResult> {
    if (result.dryRun) return result;
    await writeAudit(this.deps, auditEntry(request, result, this.now()));
    if (result.action === 'cut' && result.status !== 'skipped')
      await this.deps.store.clearPendingApproval(result.project.id);
    // A skipped cut that a check event asked for is announced too: in AWS
    // the people who saw "cut requested" learn of it no other way.
    const skippedEvent =
      result.status === 'skipped' && request.source === 'event';
    if (
      skippedEvent ||
      (['done', 'partial', 'failed'].includes(result.status) &&
        (result.changes.length > 0 || result.status !== 'done'))
    ) {
      await notifyResult(this.deps, result, this.now());
    }
    if (result.status === 'done' || result.status === 'refused') {
      await this.deps.store.putResult(
        result.requestId,
        result,
        this.now(),
        RESULT_TTL_MS,
      );
    }
    this.deps.log.info('quota action finished', {
      requestId: result.requestId,
      projectId: result.project.id,
      action: result.action,
      mode: result.mode,
      status: result.status,
      source: request.source,
      changes: result.changes.length,
      failed: result.changes.filter((change) => !change.ok).length,
    });

    return result;
  }
}

/**
 * Returns the stored result of an earlier request with the same id, after
 * checking that the repeat requests the same thing.
 */
function sameRequest(
  stored: ActionResult,
  request: ActionRequest,
): ActionResult {
  const sameProject =
    request.project.toLowerCase() === stored.project.id ||
    request.project === stored.project.name;
  const sameMode = request.mode === undefined || request.mode === stored.mode;
  if (!sameProject || request.action !== stored.action || !sameMode) {
    throw new QuotaActionError(
      'request_id_conflict',
      `request id ${JSON.stringify(stored.requestId)} was already used for ${stored.action} of project ${stored.project.name}; use a new request id`,
    );
  }

  return stored;
}

function empty(
  project: Project,
  request: ActionRequest,
  requestId: string,
): ActionResult {
  return {
    project,
    action: request.action,
    mode: request.mode ?? null,
    status: 'done',
    dryRun: request.dryRun ?? false,
    requestId,
    changes: [],
    snapshot: null,
  };
}
