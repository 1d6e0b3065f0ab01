/**
 * The logging calls the library makes. Powertools `Logger` satisfies it; the
 * message is a constant phrase and the values go in `attributes`.
 */
export interface Log {
  debug(message: string, attributes?: Record<string, unknown>): void;
  info(message: string, attributes?: Record<string, unknown>): void;
  warn(message: string, attributes?: Record<string, unknown>): void;
  error(message: string, attributes?: Record<string, unknown>): void;
}

/** A logger that drops everything, for callers that pass none. */
export const silentLog: Log = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};
