import type { SelectelCredentials } from '../selectel/client.js';

/** Bad usage the CLI reports with exit status 2: the message names the fix. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * Reads Selectel credentials from the environment: `SELECTEL_API_KEY`, or a
 * service user's `SELECTEL_USERNAME` and `SELECTEL_PASSWORD`. A
 * `SELECTEL_ACCOUNT` that disagrees with the config is an error.
 */
export function credentialsFromEnv(
  env: NodeJS.ProcessEnv,
  configAccount: string,
): SelectelCredentials {
  const account = env.SELECTEL_ACCOUNT;
  if (account && account !== configAccount) {
    throw new UsageError(
      `SELECTEL_ACCOUNT=${account} differs from account "${configAccount}" in the config; make them the same`,
    );
  }
  if (env.SELECTEL_API_KEY)
    return { kind: 'apiKey', apiKey: env.SELECTEL_API_KEY };
  if (env.SELECTEL_USERNAME && env.SELECTEL_PASSWORD) {
    return {
      kind: 'serviceUser',
      username: env.SELECTEL_USERNAME,
      password: env.SELECTEL_PASSWORD,
    };
  }
  if (env.SELECTEL_USERNAME) {
    throw new UsageError(
      'SELECTEL_USERNAME is set but SELECTEL_PASSWORD is missing; set both for a service user',
    );
  }

  throw new UsageError(
    'Selectel credentials are missing: set SELECTEL_API_KEY, or SELECTEL_USERNAME and SELECTEL_PASSWORD for a service user',
  );
}
