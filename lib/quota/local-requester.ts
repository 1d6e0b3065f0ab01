import type { CutRequester } from '../check/cut-request.js';
import type { QuotaActions } from './actions.js';
import type { ActionResult } from './types.js';

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
      const reason = failedEntries(result) ?? result.reason;
      return {
        type: 'cut',
        mode: result.mode ?? request.mode,
        status: result.status,
        requestId: result.requestId,
        ...(reason ? { reason } : {}),
        ...(result.snapshot ? { snapshotId: result.snapshot.snapshotId } : {}),
      };
    },
  };
}

/** Names the entries a cut did not apply, so the check's report shows them. */
function failedEntries(result: ActionResult): string | undefined {
  const failed = result.changes.filter((change) => !change.ok);
  if (failed.length === 0) return undefined;
  const named = failed
    .slice(0, 3)
    .map(
      (change) =>
        `${change.region}/${change.zone ?? '-'}/${change.resource} (${change.error ?? 'not applied'})`,
    );
  const more = failed.length > 3 ? ` and ${failed.length - 3} more` : '';

  return `${failed.length} of ${result.changes.length} quotas not applied: ${named.join(', ')}${more}`;
}
