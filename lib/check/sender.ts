import type { Log } from '../log.js';
import type { Notification, Notifier } from '../notify/port.js';
import { cleanSubject } from '../notify/subject.js';
import type { StateStore } from '../state/store.js';
import type { SentNotification } from './types.js';

export interface SenderOptions {
  runId: string;
  /** The instant the run evaluates. */
  nowMs: number;
  /** Wall clock for claims and leases, which must not follow `--now`. */
  clockMs: () => number;
  leaseMs: number;
  dryRun: boolean;
}

/**
 * Claims, sends and settles notifications for one run. In a dry run nothing
 * is written: a claim only reads whether it would be granted, and nothing is
 * published.
 */
export class Sender {
  readonly nowMs: number;
  readonly clockMs: () => number;

  constructor(
    private readonly store: StateStore,
    private readonly notifier: Notifier,
    private readonly log: Log,
    private readonly options: SenderOptions,
  ) {
    this.nowMs = options.nowMs;
    this.clockMs = options.clockMs;
  }

  async claim(
    subject: string,
    period: string,
    rank: number,
    permanent = false,
  ): Promise<boolean> {
    const nowMs = this.options.clockMs();
    if (this.options.dryRun) {
      const existing = await this.store.getAlert(subject, period, nowMs);
      return !existing || rank > existing.rank || existing.status === 'failed';
    }

    return this.store.claimAlert({
      subject,
      period,
      rank,
      runId: this.options.runId,
      nowMs,
      leaseMs: this.options.leaseMs,
      permanent,
    });
  }

  async send(
    notification: Notification,
    period: SentNotification['period'],
  ): Promise<{ ok: boolean; report: SentNotification }> {
    const report: SentNotification = {
      period,
      level: notification.level,
      subject: cleanSubject(notification.subject),
      event: notification.event,
    };
    if (this.options.dryRun)
      return { ok: true, report: { ...report, dryRun: true } };
    try {
      const { messageId } = await this.notifier.publish(notification);
      this.log.info('notification sent', {
        runId: this.options.runId,
        event: notification.event,
        projectId: notification.project?.id ?? null,
        // `level` is the log line's own level in Powertools, so a different key.
        budgetLevel: notification.level,
        period,
        messageId,
      });
      return { ok: true, report };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.log.error('notification failed', {
        runId: this.options.runId,
        event: notification.event,
        projectId: notification.project?.id ?? null,
        error: message,
      });
      return {
        ok: false,
        report: { ...report, error: `publish failed: ${message}` },
      };
    }
  }

  async settle(subject: string, period: string, ok: boolean): Promise<void> {
    if (this.options.dryRun) return;
    await this.store.settleAlert(
      subject,
      period,
      this.options.runId,
      ok ? 'sent' : 'failed',
    );
  }
}
