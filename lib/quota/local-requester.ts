import type { CutRequester } from '../check/cut-request.js';
import type { QuotaActions } from './actions.js';

/**
 * Hands the check's cut requests to the quota-action core in the same
 * process, as a local run does. The re-check before the cut evaluates the
 * same instant as the check.
 */
export function localCutRequester(
  actions: QuotaActions,
  asOfMs: number,
): CutRequester {
  return {
    viaNotification: false,
    async request(request) {
      const result = await actions.execute({
        action: 'cut',
        project: request.project.id,
        mode: request.mode,
        requestId: request.requestId,
        source: 'check',
        actor: 'budget-guard check',
        reason: request.reason,
        period: request.period,
        asOfMs,
      });
      return {
        type: 'cut',
        mode: result.mode ?? request.mode,
        status: result.status,
        requestId: result.requestId,
        ...(result.reason ? { reason: result.reason } : {}),
        ...(result.snapshot ? { snapshotId: result.snapshot.snapshotId } : {}),
      };
    },
  };
}
