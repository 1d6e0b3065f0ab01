import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/errors.js';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import type { Log } from '../log.js';
import { QuotaActionError } from '../quota/errors.js';
import type { HttpOptions } from '../selectel/http.js';
import { UsageError } from '../wiring/credentials.js';
import { createLocalRuntime, type LocalRuntime } from '../wiring/local.js';
import { stderrLog } from '../wiring/stderr-log.js';
import { checkCommand } from './check.js';
import { discoverCommand } from './discover.js';
import { actionCommand, statusCommand } from './quota.js';
import { signCommand } from './sign.js';
import { validateCommand } from './validate.js';

/** Streams, environment and seams of one CLI invocation. */
export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Wall clock; tests inject one. */
  now?: () => number;
  /** Extra options for the Selectel HTTP client, such as a test dispatcher. */
  http?: HttpOptions;
}

/** Context of every command: parsed options, the config loader and output helpers. */
export interface CommandContext {
  io: CliIo;
  positionals: string[];
  options: Record<string, string | boolean | undefined>;
  json: boolean;
  log: Log;
  configPath: string;
  loadConfig(): Promise<Config>;
  /** Loads the config, wires a local runtime, runs `work` and closes it. */
  withRuntime<T>(work: (runtime: LocalRuntime) => Promise<T>): Promise<T>;
  print(text: string): void;
  printJson(value: unknown): void;
}

export const USAGE = `usage: budget-guard COMMAND [options]

commands:
  check    [--now ISO] [--dry-run]             evaluate every project, notify, request cuts
  cut      PROJECT [--mode freeze|zero] [--dry-run] [--reason TEXT] [--request-id ID]
                                               save the project's quotas, then cut them
                                               (also approves a cut waiting for approval)
  restore  PROJECT [--dry-run] [--reason TEXT] [--request-id ID]
                                               put back the quotas saved by the last cut
  status   [PROJECT]                           snapshot, current quotas and audit trail;
                                               without PROJECT, every project
  validate                                     check the config file and exit
  discover                                     list the account, projects, metrics and
                                               each metric's granularities
  sign     --body JSON|@FILE [--url URL]       sign a webhook request (WEBHOOK_SECRET)

options for every command:
  --config FILE   config file (default: $BUDGET_GUARD_CONFIG, then ./budgets.yml)
  --json          print one JSON document instead of a table (also on errors)
  -h, --help      print this help

PROJECT is a project id (32 hex digits) or the exact, case-sensitive name.
--now takes an ISO 8601 instant with a UTC offset, such as 2026-12-04T12:00:00Z.
--request-id makes a repeat of the same request return its first result.
exit status: 0 finished, 1 finished with failures, 2 bad usage, unknown
project or invalid config.`;

const COMMON_OPTIONS = {
  config: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Most PROJECT arguments each command takes. */
const MAX_POSITIONALS: Record<string, number> = {
  cut: 1,
  restore: 1,
  status: 1,
};

const COMMANDS = {
  check: {
    options: { now: { type: 'string' }, 'dry-run': { type: 'boolean' } },
    run: checkCommand,
  },
  cut: {
    options: {
      mode: { type: 'string' },
      'dry-run': { type: 'boolean' },
      reason: { type: 'string' },
      'request-id': { type: 'string' },
    },
    run: actionCommand('cut'),
  },
  restore: {
    options: {
      'dry-run': { type: 'boolean' },
      reason: { type: 'string' },
      'request-id': { type: 'string' },
    },
    run: actionCommand('restore'),
  },
  status: { options: {}, run: statusCommand },
  validate: { options: {}, run: validateCommand },
  discover: { options: {}, run: discoverCommand },
  sign: {
    options: {
      body: { type: 'string' },
      url: { type: 'string' },
      time: { type: 'string' },
    },
    run: signCommand,
  },
} as const;
type CommandName = keyof typeof COMMANDS;
type ParseArgsOptionsConfig = NonNullable<
  Parameters<typeof parseArgs>[0]
>['options'];
interface ParsedArgs {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** Runs the CLI and returns its exit status. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (
    name === undefined ||
    name === '-h' ||
    name === '--help' ||
    name === 'help'
  ) {
    io.stdout.write(`${USAGE}\n`);
    return name === undefined ? 2 : 0;
  }
  if (!(name in COMMANDS)) {
    io.stderr.write(
      `budget-guard: unknown command ${JSON.stringify(name)}; run budget-guard --help\n`,
    );
    return 2;
  }
  const command = COMMANDS[name as CommandName];
  let parsed: ParsedArgs;
  try {
    const options: ParseArgsOptionsConfig = {
      ...COMMON_OPTIONS,
      ...command.options,
    };
    const result = parseArgs({
      args: rest,
      options,
      allowPositionals: true,
      strict: true,
    });
    // No option is declared `multiple`, so no value is an array.
    parsed = {
      values: result.values as ParsedArgs['values'],
      positionals: result.positionals,
    };
  } catch (error) {
    io.stderr.write(
      `budget-guard ${name}: ${optionMessage(error, command.options)}\n`,
    );
    return 2;
  }
  const extra = parsed.positionals.slice(MAX_POSITIONALS[name] ?? 0);
  if (extra.length > 0) {
    io.stderr.write(
      `budget-guard ${name}: unexpected argument ${JSON.stringify(extra[0])}; ${name} takes ${
        MAX_POSITIONALS[name] ? 'one PROJECT' : 'no arguments'
      } (run budget-guard --help)\n`,
    );
    return 2;
  }
  if (parsed.values.help) {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const context = buildContext(io, parsed);
  try {
    return await command.run(context);
  } catch (error) {
    return reportError(io, name, error, context.json);
  }
}

/**
 * Rewrites parseArgs' error as one sentence naming the option, with the
 * closest known option when one is near.
 */
function optionMessage(error: unknown, commandOptions: object): string {
  const code = (error as { code?: string }).code;
  const text = error instanceof Error ? error.message : String(error);
  const given = /'(-{1,2}[^'\s]+)'/.exec(text)?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && given) {
    const known = [
      ...Object.keys(COMMON_OPTIONS),
      ...Object.keys(commandOptions),
    ].map((option) => `--${option}`);
    const close = known.find((option) => similar(option, given));
    return `unknown option ${given}${close ? `; did you mean ${close}?` : ''} (run budget-guard --help)`;
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && given) {
    return `option ${given} needs a value (run budget-guard --help)`;
  }

  return `${text.split('\n')[0]} (run budget-guard --help)`;
}

/** Tells whether two option names differ only by dashes, case or one edit. */
function similar(a: string, b: string): boolean {
  const plain = (text: string) => text.replace(/-/g, '').toLowerCase();
  const [x, y] = [plain(a), plain(b)];
  if (x === y) return true;
  if (Math.abs(x.length - y.length) > 1) return false;
  let edits = 0;
  for (let i = 0, j = 0; i < x.length || j < y.length; ) {
    if (x[i] === y[j]) {
      i++;
      j++;
      continue;
    }
    if (++edits > 1) return false;
    if (x.length > y.length) i++;
    else if (y.length > x.length) j++;
    else {
      i++;
      j++;
    }
  }

  return true;
}

function buildContext(io: CliIo, parsed: ParsedArgs): CommandContext {
  const options = parsed.values;
  const log = stderrLog(io.env.LOG_LEVEL, (line) => io.stderr.write(line));
  const configPath = resolve(
    io.cwd,
    (options.config as string | undefined) ??
      io.env.BUDGET_GUARD_CONFIG ??
      'budgets.yml',
  );

  return {
    io,
    positionals: parsed.positionals,
    options,
    json: options.json === true,
    log,
    configPath,
    loadConfig: () => loadConfig(configPath),
    async withRuntime(work) {
      const runtime = createLocalRuntime({
        config: await loadConfig(configPath),
        env: io.env,
        cwd: io.cwd,
        log,
        http: io.http,
      });
      try {
        return await work(runtime);
      } finally {
        await runtime.close();
      }
    },
    print: (text) => io.stdout.write(`${text}\n`),
    printJson: (value) =>
      io.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
  };
}

function reportError(
  io: CliIo,
  command: string,
  error: unknown,
  json: boolean,
): number {
  const message = error instanceof Error ? error.message : String(error);
  const status = exitStatusOf(error);
  io.stderr.write(`budget-guard ${command}: ${message}\n`);
  if (json) {
    // Scripts that read stdout get one document whatever happens.
    const body: Record<string, unknown> = {
      error: message,
      exitStatus: status,
    };
    if (error instanceof ConfigError) body.issues = error.issues;
    if (error instanceof QuotaActionError) body.code = error.code;
    io.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
  }

  return status;
}

/** 2 for bad usage or input (config, arguments, project names), 1 otherwise. */
function exitStatusOf(error: unknown): number {
  if (error instanceof ConfigError || error instanceof UsageError) return 2;
  if (error instanceof QuotaActionError) {
    return error.code === 'request_in_progress' ? 1 : 2;
  }

  return 1;
}

/** Entry point of the `budget-guard` binary. */
export async function run(): Promise<void> {
  process.exitCode = await main(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
  });
}
