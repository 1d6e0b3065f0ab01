import { randomBytes } from 'node:crypto';
import type { Notification } from '../notify/port.js';
import { type ItemStore, isExpired } from './items.js';

/** Queued notifications older than this are dropped. */
const OUTBOX_TTL_S = 14 * 86_400;
const OUTBOX = 'outbox';

/** A notification waiting in the state store for another send. */
export interface QueuedNotification {
  key: string;
  attempts: number;
  version: number;
  notification: Notification;
}

/**
 * Notifications whose send failed, kept in the state store until a later run
 * sends them. Claims are conditional writes, so each goes out from one run.
 */
export class NotificationQueue {
  constructor(private readonly items: ItemStore) {}

  /** Keeps a notification whose send failed, for a later run to send. */
  async add(notification: Notification, nowMs: number): Promise<void> {
    const sk = `pending#${new Date(nowMs).toISOString()}#${randomBytes(4).toString('hex')}`;
    await this.items.put(
      {
        pk: OUTBOX,
        sk,
        notification: JSON.stringify(notification),
        attempts: 1,
        version: 1,
        expiresAt: Math.floor(nowMs / 1000) + OUTBOX_TTL_S,
      },
      { attributeNotExists: true },
    );
  }

  /**
   * Claims up to `limit` queued notifications for one run, oldest first. A
   * claim lasts `leaseMs`, so two runs never send the same one at once and a
   * run that dies leaves it for the next.
   */
  async claim(
    runId: string,
    nowMs: number,
    leaseMs: number,
    limit = 50,
  ): Promise<QueuedNotification[]> {
    const items = await this.items.query(OUTBOX, 'pending#', { limit });
    const claimed: QueuedNotification[] = [];
    for (const item of items) {
      if (isExpired(item, nowMs)) continue;
      if (
        typeof item.claimedAt === 'number' &&
        nowMs - item.claimedAt < leaseMs
      )
        continue;
      const version = Number(item.version);
      const won = await this.items.put(
        { ...item, claimedBy: runId, claimedAt: nowMs, version: version + 1 },
        { equals: ['version', version] },
      );
      if (won) {
        claimed.push({
          key: item.sk,
          attempts: Number(item.attempts),
          version: version + 1,
          notification: JSON.parse(String(item.notification)) as Notification,
        });
      }
    }

    return claimed;
  }

  /** Removes a queued notification once sent, or frees it for the next run. */
  async settle(queued: QueuedNotification, sent: boolean): Promise<void> {
    if (sent) {
      await this.items.delete(OUTBOX, queued.key, {
        equals: ['version', queued.version],
      });
      return;
    }
    const item = await this.items.get(OUTBOX, queued.key);
    if (!item || Number(item.version) !== queued.version) return;
    const { claimedBy: _claimedBy, claimedAt: _claimedAt, ...rest } = item;
    await this.items.put(
      {
        ...rest,
        pk: OUTBOX,
        sk: queued.key,
        attempts: queued.attempts + 1,
        version: queued.version + 1,
      },
      { equals: ['version', queued.version] },
    );
  }
}
