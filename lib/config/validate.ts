import { readFile } from 'node:fs/promises';
import { DateTime } from 'luxon';
import type * as z from 'zod';
import { type ConfigIssue, ConfigError } from './errors.js';
import { DEFAULT_WARN_AT } from './budgets.js';
import { type BudgetInput, type Config, ConfigSchema } from './schema.js';

/** Reads a config file's text, naming the fix when it is missing. */
export async function readConfigText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message =
      code === 'ENOENT'
        ? 'file not found; pass --config FILE or set BUDGET_GUARD_CONFIG'
        : `cannot read the file (${code ?? String(error)})`;
    throw new ConfigError(file, [{ path: '', message }], 'cannot load config');
  }
}

/** Validates parsed config data and checks the timezone against the granularity. */
export function validateConfig(data: unknown, file = 'budgets.yml'): Config {
  const parsed = ConfigSchema.safeParse(data ?? {}, { reportInput: true });
  if (!parsed.success) {
    throw new ConfigError(file, parsed.error.issues.map(toConfigIssue));
  }
  const problems = [
    granularityProblem(parsed.data),
    ...levelOrderProblems(parsed.data),
  ].filter((issue): issue is ConfigIssue => issue !== undefined);
  if (problems.length > 0) throw new ConfigError(file, problems);

  return parsed.data;
}

function toConfigIssue(issue: z.core.$ZodIssue): ConfigIssue {
  const path = issue.path.map(String).join('.');
  const shown =
    'input' in issue &&
    issue.input !== undefined &&
    issue.code !== 'unrecognized_keys' &&
    typeof issue.input !== 'object'
      ? ` (got ${JSON.stringify(maskUserinfo(issue.input))})`
      : '';
  const message =
    issue.code === 'invalid_type' && issue.input === undefined
      ? 'missing; this field is required'
      : `${issue.message}${shown}`;

  return { path, message };
}

/** Hides a user name and password written into a URL, so errors never echo them. */
function maskUserinfo(value: unknown): unknown {
  return typeof value === 'string'
    ? value.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1***@')
    : value;
}

/**
 * A cut level at or below the warning level would cut a project before it
 * is ever warned; checked for the default and for each override over it.
 */
function levelOrderProblems(config: Config): ConfigIssue[] {
  const { default: fallback, projects } = config.budgets;
  const budgets: [string, BudgetInput][] = [
    ['budgets.default', fallback],
    ...Object.entries(projects).map(([key, budget]): [string, BudgetInput] => [
      `budgets.projects.${key}`,
      { ...fallback, ...budget },
    ]),
  ];
  const issues: ConfigIssue[] = [];
  for (const [path, budget] of budgets) {
    const warnAt = budget.warnAt ?? DEFAULT_WARN_AT;
    if (budget.cutAt != null && budget.cutAt <= warnAt) {
      issues.push({
        path: `${path}.cutAt`,
        message: `cutAt ${budget.cutAt} is not above warnAt ${warnAt}, so a project would be cut before it is warned; raise cutAt or lower warnAt`,
      });
    }
  }

  return issues;
}

/**
 * Buckets shorter than a day are summed into local days, so every UTC offset
 * the timezone takes must be a whole number of buckets.
 */
function granularityProblem(config: Config): ConfigIssue | undefined {
  const granularity = config.costs.granularity;
  if (granularity === 86_400) return undefined;
  const year = DateTime.utc().year;
  for (const probe of [year, year + 1].flatMap((y) => [
    `${y}-01-15`,
    `${y}-07-15`,
  ])) {
    const offsetMinutes = DateTime.fromISO(probe, {
      zone: config.timezone,
    }).offset;
    if ((offsetMinutes * 60) % granularity !== 0) {
      const sign = offsetMinutes < 0 ? '-' : '+';
      const hours = String(Math.floor(Math.abs(offsetMinutes) / 60)).padStart(
        2,
        '0',
      );
      const minutes = String(Math.abs(offsetMinutes) % 60).padStart(2, '0');
      return {
        path: 'costs.granularity',
        message:
          `${granularity} s buckets do not fit the UTC offset ${sign}${hours}:${minutes} of ${config.timezone}; ` +
          'use a granularity that divides the offset, or 86400 for UTC days',
      };
    }
  }

  return undefined;
}
