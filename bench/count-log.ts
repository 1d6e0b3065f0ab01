import type { Log } from '../lib/log.js';

/** Log lines by level, with the first few warnings and errors kept. */
export interface LogCounts {
  info: number;
  warn: number;
  error: number;
  firstProblems: string[];
}

const KEPT_PROBLEMS = 5;

/**
 * Creates a `Log` that prints nothing and counts lines, so the benchmark
 * output stays readable and still shows whether the check warned or failed.
 */
export function countingLog(): { log: Log; counts: LogCounts } {
  const counts: LogCounts = { info: 0, warn: 0, error: 0, firstProblems: [] };
  const keep = (level: string, message: string, attributes?: object) => {
    if (counts.firstProblems.length >= KEPT_PROBLEMS) return;
    counts.firstProblems.push(
      `${level}: ${message} ${JSON.stringify(attributes ?? {})}`.slice(0, 300),
    );
  };
  const log: Log = {
    debug() {},
    info() {
      counts.info++;
    },
    warn(message, attributes) {
      counts.warn++;
      keep('warn', message, attributes);
    },
    error(message, attributes) {
      counts.error++;
      keep('error', message, attributes);
    },
  };

  return { log, counts };
}
