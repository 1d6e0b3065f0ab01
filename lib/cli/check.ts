import { DateTime } from 'luxon';
import { checkReport, checkTable } from '../check/report.js';
import { runCheck } from '../check/run.js';
import { localCutRequester } from '../quota/local-requester.js';
import { UsageError } from '../wiring/credentials.js';
import type { CommandContext } from './main.js';

/** `budget-guard check`: one whole local run, cuts included. */
export async function checkCommand(context: CommandContext): Promise<number> {
  const runAtMs = parseNow(context.options.now);
  const dryRun = context.options['dry-run'] === true;
  return context.withRuntime(async (runtime) => {
    const now = context.io.now ?? Date.now;
    const result = await runCheck(
      {
        config: runtime.config,
        selectel: runtime.selectel,
        store: runtime.store,
        notifier: runtime.notifier,
        cuts: localCutRequester(runtime.actions, runAtMs ?? now()),
        log: context.log,
        now,
      },
      { runAtMs, dryRun },
    );
    if (context.json) {
      context.printJson(checkReport(result));
    } else {
      context.print(checkTable(result));
      if (!dryRun && !result.fatal) {
        context.print(
          `State: ${runtime.stateDir} (outbox: ${runtime.outboxPath})`,
        );
      }
    }
    return result.errors > 0 || result.fatal ? 1 : 0;
  });
}

/** Parses `--now`: an ISO 8601 instant with an explicit offset. */
export function parseNow(
  value: string | boolean | undefined,
): number | undefined {
  if (value === undefined) return undefined;
  const text = String(value);
  // luxon rejects dates that do not exist (2026-02-30), which Date.parse
  // would roll over into the next month.
  const parsed = DateTime.fromISO(text, { setZone: true });
  if (!/(Z|[+-]\d{2}:?\d{2})$/i.test(text) || !parsed.isValid) {
    throw new UsageError(
      `invalid --now ${JSON.stringify(text)}: give an ISO 8601 instant with a UTC offset, such as 2026-12-04T12:00:00Z`,
    );
  }

  return parsed.toMillis();
}
