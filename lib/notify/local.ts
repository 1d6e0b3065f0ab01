import { randomUUID } from 'node:crypto';
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Writable } from 'node:stream';
import type { Notification, Notifier } from './port.js';
import { cleanSubject } from './subject.js';

/**
 * Prints each notification and appends it as one JSON line to an outbox
 * file, in place of SNS when the guard runs locally.
 */
export class LocalNotifier implements Notifier {
  /** Notifications published through this instance, oldest first. */
  readonly sent: Notification[] = [];

  constructor(
    private readonly outboxPath: string | undefined,
    private readonly output?: Writable,
  ) {}

  async publish(notification: Notification): Promise<{ messageId: string }> {
    const messageId = randomUUID();
    const subject = cleanSubject(notification.subject);
    if (this.outboxPath) {
      await mkdir(dirname(this.outboxPath), { recursive: true });
      const line = JSON.stringify({
        messageId,
        at: new Date().toISOString(),
        event: notification.event,
        project: notification.project,
        level: notification.level,
        subject,
        text: notification.text,
        data: notification.data,
      });
      await appendFile(this.outboxPath, `${line}\n`);
    }
    this.output?.write(`\n✉ ${subject}\n${indent(notification.text)}\n`);
    this.sent.push(notification);

    return { messageId };
  }
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}
