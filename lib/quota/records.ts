import { errorDetails } from '../check/collect.js';
import type { Log } from '../log.js';
import type { Notifier } from '../notify/port.js';
import type { SelectelClient } from '../selectel/client.js';
import type { StateStore } from '../state/store.js';
import type { AuditEntry } from '../state/types.js';
import { QuotaActionError } from './errors.js';
import { actionMessage } from './messages.js';
import type { ActionRequest, ActionResult } from './types.js';

/** Finds a project by id, or by exact name when the name is unique. */
export async function resolveProject(
  selectel: SelectelClient,
  reference: string,
): Promise<{ id: string; name: string }> {
  const projects = await selectel.resell.listProjects();
  const byId = projects.find(
    (project) => project.id === reference.toLowerCase(),
  );
  if (byId) return { id: byId.id, name: byId.name };
  const byName = projects.filter((project) => project.name === reference);
  if (byName.length > 1) {
    throw new QuotaActionError(
      'project_ambiguous',
      `project name ${JSON.stringify(reference)} matches ${byName.length} projects; use the project id`,
    );
  }
  const [match] = byName;
  if (!match) {
    throw new QuotaActionError(
      'project_not_found',
      `project ${JSON.stringify(reference)} not found; give a project id or the exact name, which is case-sensitive (budget-guard status lists the projects)`,
    );
  }

  return { id: match.id, name: match.name };
}

/** The audit line of a finished action: who, why, before and after. */
export function auditEntry(
  request: ActionRequest,
  result: ActionResult,
  nowMs: number,
): AuditEntry {
  return {
    at: new Date(nowMs).toISOString(),
    projectId: result.project.id,
    projectName: result.project.name,
    action: result.action,
    source: request.source,
    actor: request.actor,
    reason: request.reason ?? result.reason ?? '',
    requestId: result.requestId,
    status: result.status,
    dryRun: result.dryRun,
    changes: result.changes,
    ...(result.snapshot ? { snapshotId: result.snapshot.snapshotId } : {}),
    ...(result.reason ? { detail: result.reason } : {}),
  };
}

/** Attempts at writing one audit entry before it goes to the log instead. */
const AUDIT_ATTEMPTS = 3;

/**
 * Appends an audit entry, trying again when the write fails. The quotas have
 * changed by then, so a lasting failure must not turn the action into a
 * failure: the entry is logged whole at ERROR instead, where it can be found.
 */
export async function writeAudit(
  deps: { store: StateStore; log: Log },
  entry: AuditEntry,
): Promise<boolean> {
  for (let attempt = 1; attempt <= AUDIT_ATTEMPTS; attempt++) {
    try {
      await deps.store.appendAudit(entry);
      return true;
    } catch (error) {
      if (attempt === AUDIT_ATTEMPTS) {
        deps.log.error('writing the audit entry failed; the entry follows', {
          error: errorDetails(error),
          audit: entry,
        });
      }
    }
  }

  return false;
}

/**
 * Publishes the result of a cut or restore. A failed send is logged and
 * queued in the state store, and the next budget check sends it again.
 */
export async function notifyResult(
  deps: {
    notifier: Notifier;
    store: StateStore;
    log: Log;
    config: { notifications: { subjectPrefix: string } };
  },
  result: ActionResult,
  nowMs: number,
): Promise<void> {
  const notification = actionMessage(
    deps.config.notifications.subjectPrefix,
    result,
  );
  try {
    await deps.notifier.publish(notification);
  } catch (error) {
    deps.log.error(
      'quota action notification failed, queued for the next run',
      {
        requestId: result.requestId,
        projectId: result.project.id,
        error: errorDetails(error),
      },
    );
    try {
      await deps.store.queue.add(notification, nowMs);
    } catch (queueError) {
      deps.log.error('queueing the quota action notification failed', {
        requestId: result.requestId,
        projectId: result.project.id,
        error: errorDetails(queueError),
      });
    }
  }
}
