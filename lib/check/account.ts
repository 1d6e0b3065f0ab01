import { levelRank } from '../costs/levels.js';
import { EVENTS } from '../notify/port.js';
import { errorDetails } from './collect.js';
import { type EvaluationContext, evaluateAccount } from './evaluate.js';
import {
  type MessageContext,
  crossingMessage,
  dataMessage,
} from './messages.js';
import type { CheckDeps } from './run.js';
import type { Sender } from './sender.js';
import type { AccountOutcome } from './types.js';

/** Evaluates and notifies the account-wide budget, which never cuts. */
export async function handleAccount(
  deps: CheckDeps,
  sender: Sender,
  messages: MessageContext,
  context: EvaluationContext,
  series: Parameters<typeof evaluateAccount>[1],
): Promise<AccountOutcome | null> {
  const evaluated = evaluateAccount(context, series);
  if (!evaluated) return null;
  const outcome: AccountOutcome = {
    dataStatus: evaluated.spend.dataStatus,
    ...evaluated,
    notifications: [],
  };
  const subject = `account#${deps.config.account}`;
  try {
    for (const period of evaluated.periods) {
      if (period.level === 'ok') continue;
      const periodKey = `${period.kind}:${period.key}`;
      if (!(await sender.claim(subject, periodKey, levelRank(period.level))))
        continue;
      const message = crossingMessage(
        messages,
        null,
        period,
        evaluated.spend.dataStatus,
        null,
        EVENTS.levelCrossed,
      );
      const sent = await sender.send(message, period.kind);
      outcome.notifications.push(sent.report);
      await sender.settle(subject, periodKey, sent.ok);
    }
    if (evaluated.spend.dataStatus !== 'ok') {
      const day = evaluated.spend.days[1].date;
      const key = `data:${day}:${evaluated.spend.dataStatus}`;
      if (await sender.claim(subject, key, 1)) {
        const sent = await sender.send(
          dataMessage(
            messages,
            null,
            evaluated.spend.dataStatus,
            evaluated.spend.reason,
            day,
          ),
          'data',
        );
        outcome.notifications.push(sent.report);
        await sender.settle(subject, key, sent.ok);
      }
    }
  } catch (error) {
    deps.log.error('account budget check failed', {
      error: errorDetails(error),
    });
  }

  return outcome;
}
