import { ConfigError } from './errors.js';
import type { Config } from './schema.js';
import { readConfigText, validateConfig } from './validate.js';

/**
 * Reads and validates a JSON config file. The Lambda functions load the
 * budgets this way from the JSON that `npm run package` writes, which keeps
 * the YAML parser out of their bundles.
 */
export async function loadJsonConfig(file: string): Promise<Config> {
  const text = await readConfigText(file);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new ConfigError(
      file,
      [{ path: '', message }],
      'invalid JSON in config',
    );
  }

  return validateConfig(data, file);
}
