/**
 * The logging calls the library makes: a constant phrase as the message and
 * the values in `attributes`. In Lambda it is backed by Powertools Logger.
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
