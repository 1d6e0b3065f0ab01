/** Event names carried in the `event` message attribute, for subscription filters. */
export const EVENTS = {
  levelCrossed: 'budget.level_crossed',
  cutRequested: 'budget.cut_requested',
  cutPending: 'budget.cut_pending',
  dataQuality: 'budget.data_quality',
  projectUnlisted: 'budget.project_unlisted',
  quotaCut: 'quota.cut',
  quotaRestore: 'quota.restore',
} as const;
export type EventName = (typeof EVENTS)[keyof typeof EVENTS];

/** One message for people (subject and text) and machines (data). */
export interface Notification {
  event: EventName;
  /** The project concerned; null for the account as a whole. */
  project: { id: string; name: string } | null;
  /** A budget level or a data status, for the `level` attribute. */
  level: string;
  subject: string;
  /** Readable body for email. */
  text: string;
  /** JSON body for machines; always carries `event`, `project` and `level`. */
  data: Record<string, unknown>;
}

/** Sends notifications; throws when a send fails after its own retries. */
export interface Notifier {
  publish(notification: Notification): Promise<{ messageId: string }>;
}
