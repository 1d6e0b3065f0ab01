import type { SNSEvent } from 'aws-lambda';
import * as z from 'zod';
import { EVENTS } from '../notify/port.js';
import type { Log } from '../log.js';
import type { StateStore } from '../state/store.js';
import type { QuotaActions } from './actions.js';

/** Results after which the check must not request the same cut again. */
const FINAL_STATUSES = new Set(['done', 'refused']);

/** The part of a `budget.cut_requested` message the quota action reads. */
export const CutRequestedSchema = z.looseObject({
  event: z.literal(EVENTS.cutRequested),
  project: z.looseObject({
    id: z.string().regex(/^[0-9a-f]{32}$/),
    name: z.string(),
  }),
  period: z.looseObject({
    kind: z.enum(['day', 'month']),
    key: z.string().min(7).max(10),
  }),
  action: z.looseObject({
    mode: z.enum(['freeze', 'zero']),
    requestId: z.string().min(1).max(200),
  }),
});

/**
 * Runs the cut of each `budget.cut_requested` record. A malformed message is
 * logged and dropped, since a retry cannot fix it; an error thrown by the cut
 * itself is thrown on, so that Lambda delivers the event again. A cut that
 * ends skipped, partial or failed reopens the check's request, so the next
 * run requests it again.
 */
export async function handleCutEvent(
  event: SNSEvent,
  deps: { actions: QuotaActions; store: StateStore; log: Log },
): Promise<{ processed: number }> {
  let processed = 0;
  for (const record of event.Records) {
    const message = parseMessage(record.Sns.Message);
    if (!message.success) {
      deps.log.error('dropping a malformed cut request', {
        messageId: record.Sns.MessageId,
        issue: message.error.issues[0]?.message,
        path: message.error.issues[0]?.path.join('.'),
      });
      continue;
    }
    const { project, period, action } = message.data;
    const result = await deps.actions.execute({
      action: 'cut',
      project: project.id,
      mode: action.mode,
      requestId: action.requestId,
      source: 'event',
      actor: 'budget-guard check',
      reason: `cut requested for ${period.kind} ${period.key}`,
      period: `${period.kind}:${period.key}`,
    });
    if (!FINAL_STATUSES.has(result.status)) {
      // The check marked this crossing as requested; unmark it so that its
      // next run requests it again while the project is still at its cut level.
      await deps.store.reopenAlert(
        `project#${project.id}`,
        `cut:${period.kind}:${period.key}`,
      );
    }
    deps.log.info('cut request handled', {
      messageId: record.Sns.MessageId,
      projectId: project.id,
      requestId: action.requestId,
      status: result.status,
      reason: result.reason,
    });
    processed++;
  }

  return { processed };
}

function parseMessage(text: string) {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }

  return CutRequestedSchema.safeParse(json);
}
