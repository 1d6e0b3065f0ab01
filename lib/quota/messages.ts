import { EVENTS, type Notification } from '../notify/port.js';
import type { ActionResult } from './types.js';

/** Describes a finished cut or restore for people and machines. */
export function actionMessage(
  subjectPrefix: string,
  result: ActionResult,
): Notification {
  const failed = result.changes.filter((change) => !change.ok);
  const verb = result.action === 'cut' ? 'CUT' : 'RESTORE';
  const counts =
    result.changes.length === 0
      ? 'no quota changed'
      : `${result.changes.length - failed.length} of ${result.changes.length} quotas ${result.action === 'cut' ? 'lowered' : 'restored'}`;
  const lines = [
    `Project: ${result.project.name} (${result.project.id})`,
    `Action: ${result.action}${result.mode ? ` (mode ${result.mode})` : ''}, status ${result.status}`,
    `Result: ${counts}`,
    ...(result.reason ? [`Note: ${result.reason}`] : []),
    ...(result.snapshot
      ? [
          `Snapshot: ${result.snapshot.snapshotId} taken ${result.snapshot.takenAt}`,
        ]
      : []),
    '',
    'Changes (region/zone/resource: before -> after):',
    ...result.changes.map(
      (change) =>
        `  ${change.region}/${change.zone ?? '-'}/${change.resource}: ${change.before ?? '?'} -> ${change.after}${change.ok ? '' : `  FAILED: ${change.error ?? 'not applied'}`}`,
    ),
  ];
  if (result.action === 'cut' && result.status !== 'failed') {
    lines.push('', `Restore with: budget-guard restore ${result.project.id}`);
  }
  if (failed.length > 0) {
    lines.push(
      '',
      `Retry with the same command: only the ${failed.length} failed entries are sent again.`,
    );
  }

  return {
    event: result.action === 'cut' ? EVENTS.quotaCut : EVENTS.quotaRestore,
    project: result.project,
    level: result.status,
    subject: `${subjectPrefix} ${verb} ${result.status.toUpperCase()} ${result.project.name}: ${counts}`,
    text: lines.join('\n'),
    data: {
      event: result.action === 'cut' ? EVENTS.quotaCut : EVENTS.quotaRestore,
      project: result.project,
      level: result.status,
      action: result.action,
      mode: result.mode,
      status: result.status,
      requestId: result.requestId,
      reason: result.reason ?? null,
      changes: result.changes,
      snapshotId: result.snapshot?.snapshotId ?? null,
    },
  };
}
