import type { Log } from '../log.js';
import type { Notifier } from '../notify/port.js';
import type { StateStore } from '../state/store.js';
import { errorDetails } from './collect.js';

/** Sends queued at most once per run per notification, for this long. */
const OUTBOX_LEASE_MS = 10 * 60_000;

/**
 * Sends the notifications that earlier sends left in the state store's
 * queue (results of cuts and restores). Each is claimed first, so two runs
 * never send the same one; one that fails again stays queued.
 */
export async function sendQueuedNotifications(
  deps: { store: StateStore; notifier: Notifier; log: Log },
  runId: string,
  nowMs: number,
): Promise<{ sent: number; failed: number }> {
  const counts = { sent: 0, failed: 0 };
  let queued: Awaited<ReturnType<StateStore['queue']['claim']>>;
  try {
    queued = await deps.store.queue.claim(runId, nowMs, OUTBOX_LEASE_MS);
  } catch (error) {
    deps.log.error('reading queued notifications failed', {
      runId,
      error: errorDetails(error),
    });
    return { sent: 0, failed: 1 };
  }
  for (const item of queued) {
    let sent = false;
    try {
      await deps.notifier.publish(item.notification);
      sent = true;
      counts.sent++;
      deps.log.info('queued notification sent', {
        runId,
        event: item.notification.event,
        projectId: item.notification.project?.id ?? null,
        attempts: item.attempts + 1,
      });
    } catch (error) {
      counts.failed++;
      deps.log.error('queued notification failed again', {
        runId,
        event: item.notification.event,
        projectId: item.notification.project?.id ?? null,
        error: errorDetails(error),
      });
    }
    await deps.store.queue.settle(item, sent).catch((error: unknown) => {
      deps.log.error('settling a queued notification failed', {
        runId,
        error: errorDetails(error),
      });
    });
  }

  return counts;
}
