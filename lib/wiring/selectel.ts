import type { Config } from '../config/schema.js';
import type { Log } from '../log.js';
import {
  createSelectelClient,
  type SelectelClient,
  type SelectelCredentials,
} from '../selectel/client.js';
import type { HttpOptions } from '../selectel/http.js';

/** Builds the Selectel client from the config's endpoints and tuning. */
export function selectelFromConfig(
  config: Config,
  credentials: SelectelCredentials,
  log: Log,
  http?: HttpOptions,
): SelectelClient {
  return createSelectelClient({
    account: config.account,
    credentials,
    endpoints: config.endpoints,
    quotaApi: config.quotas.api,
    gnocchiPageLimit: config.costs.pageLimit,
    http: {
      maxConnectionsPerOrigin: Math.max(config.costs.concurrency * 2, 4),
      ...http,
    },
    log,
  });
}
