import type { ActionResult } from './types.js';

/** The JSON document of `cut`, `restore` and `status`. */
export function actionJson(result: ActionResult) {
  return {
    project: result.project,
    action: result.action,
    mode: result.mode,
    status: result.status,
    dryRun: result.dryRun,
    requestId: result.requestId,
    reason: result.reason ?? null,
    changes: result.changes,
    snapshot: result.snapshot,
    ...(result.replayed ? { replayed: true } : {}),
    ...(result.current ? { current: result.current } : {}),
    ...(result.audit ? { audit: result.audit } : {}),
    ...(result.pendingApproval !== undefined
      ? { pendingApproval: result.pendingApproval }
      : {}),
  };
}
