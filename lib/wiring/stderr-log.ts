import type { Log } from '../log.js';

const LEVELS = {
  DEBUG: 10,
  INFO: 20,
  WARN: 30,
  ERROR: 40,
  SILENT: 100,
} as const;
type LevelName = keyof typeof LEVELS;

/**
 * JSON log lines on stderr for the command-line tool, so that stdout stays
 * the report. In Lambda, Powertools Logger takes this role.
 */
export function stderrLog(
  levelName: string | undefined,
  write: (line: string) => unknown = (line) => process.stderr.write(line),
): Log {
  const name = (levelName?.toUpperCase() ?? 'WARN') as LevelName;
  const threshold = LEVELS[name] ?? LEVELS.WARN;
  const emit =
    (level: LevelName) =>
    (message: string, attributes?: Record<string, unknown>) => {
      if (LEVELS[level] < threshold) return;
      write(
        `${JSON.stringify({ level, message, timestamp: new Date().toISOString(), ...attributes }, replaceErrors)}\n`,
      );
    };

  return {
    debug: emit('DEBUG'),
    info: emit('INFO'),
    warn: emit('WARN'),
    error: emit('ERROR'),
  };
}

function replaceErrors(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    return {
      name: value.name,
      message: value.message,
      ...((value as { code?: string }).code
        ? { code: (value as { code?: string }).code }
        : {}),
    };
  }

  return value;
}
