import { Logger } from '@aws-lambda-powertools/logger';
import type { Log } from '../log.js';

/**
 * Powertools Logger for the functions, with every known secret value
 * replaced by `[redacted]` wherever it would appear in a log line.
 * `POWERTOOLS_SERVICE_NAME`, when set, names the service instead.
 */
export function createLogger(
  serviceName: string,
  secrets: () => readonly string[],
): Logger {
  return new Logger({
    serviceName: process.env.POWERTOOLS_SERVICE_NAME || serviceName,
    jsonReplacerFn: (_key: string, value: unknown) => {
      if (typeof value !== 'string') return value;
      let text = value;
      for (const secret of secrets()) {
        if (secret.length >= 4) text = text.replaceAll(secret, '[redacted]');
      }
      return text;
    },
  });
}

/** Adapts a Powertools Logger to the library's `Log` calls. */
export function powertoolsLog(logger: Logger): Log {
  return {
    debug: (message, attributes) => logger.debug(message, attributes ?? {}),
    info: (message, attributes) => logger.info(message, attributes ?? {}),
    warn: (message, attributes) => logger.warn(message, attributes ?? {}),
    error: (message, attributes) => logger.error(message, attributes ?? {}),
  };
}
