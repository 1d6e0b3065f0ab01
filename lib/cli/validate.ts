import { dayConvention, describeConvention } from '../costs/calendar.js';
import type { CommandContext } from './main.js';

/** `budget-guard validate`: loads the config and reports what it sets. */
export async function validateCommand(
  context: CommandContext,
): Promise<number> {
  const config = await context.loadConfig();
  const convention = describeConvention(
    dayConvention(config.costs.granularity, config.timezone),
    Date.now(),
  );
  const overrides = Object.keys(config.budgets.projects).length;
  if (context.json) {
    context.printJson({
      valid: true,
      file: context.configPath,
      account: config.account,
      timezone: config.timezone,
      dayConvention: convention,
      overrides,
    });
  } else {
    context.print(
      `${context.configPath} is valid: account ${config.account}, ${overrides} project override(s), ${convention}`,
    );
  }

  return 0;
}
