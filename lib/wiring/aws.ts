import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import * as z from 'zod';
import { loadJsonConfig } from '../config/json.js';
import type { Config } from '../config/schema.js';
import type { Log } from '../log.js';
import { LocalNotifier } from '../notify/local.js';
import type { Notifier } from '../notify/port.js';
import { SnsNotifier } from '../notify/sns.js';
import { QuotaActions } from '../quota/actions.js';
import type {
  SelectelClient,
  SelectelCredentials,
} from '../selectel/client.js';
import { DynamoItemStore } from '../state/dynamo-items.js';
import { FileItemStore } from '../state/file-items.js';
import { StateStore } from '../state/store.js';
import { UsageError } from './credentials.js';
import { selectelFromConfig } from './selectel.js';

/**
 * Environment of the Lambda functions. Secrets come from SSM parameters
 * named here, never from the environment itself. `SELECTEL_API_KEY`,
 * `SELECTEL_PASSWORD` and `WEBHOOK_SECRET` are read only when no parameter
 * name is set, for `serverless invoke local` against the simulator; without
 * `STATE_TABLE` or `ALERTS_TOPIC_ARN` the local file store and outbox stand in.
 */
export const FunctionEnvSchema = z.object({
  /** The validated budgets as JSON, written by the package step. */
  BUDGET_GUARD_CONFIG: z.string().default('budgets.json'),
  ALERTS_TOPIC_ARN: z.string().min(1).optional(),
  STATE_TABLE: z.string().min(1).optional(),
  IDEMPOTENCY_TABLE: z.string().min(1).optional(),
  SELECTEL_ACCOUNT: z.string().optional(),
  SELECTEL_USERNAME: z.string().min(1).optional(),
  SELECTEL_API_KEY_PARAM: z.string().min(1).optional(),
  SELECTEL_PASSWORD_PARAM: z.string().min(1).optional(),
  WEBHOOK_SECRET_PARAM: z.string().min(1).optional(),
  SECRETS_MAX_AGE_SECONDS: z.coerce.number().int().min(0).default(300),
  BUDGET_GUARD_STATE_DIR: z.string().default('/tmp/budget-guard'),
  SELECTEL_API_KEY: z.string().min(1).optional(),
  SELECTEL_PASSWORD: z.string().min(1).optional(),
  WEBHOOK_SECRET: z.string().min(1).optional(),
});
export type FunctionEnv = z.infer<typeof FunctionEnvSchema>;

/** Clients that tests and local runs may inject. */
export interface AwsClients {
  dynamodb?: DynamoDBClient;
  sns?: SNSClient;
  ssm?: SSMClient;
}

/** Everything a function invocation needs, built once per warm container. */
export interface FunctionRuntime {
  env: FunctionEnv;
  config: Config;
  selectel: SelectelClient;
  store: StateStore;
  notifier: Notifier;
  actions: QuotaActions;
  dynamodb: DynamoDBClient | undefined;
  secrets: string[];
  webhookSecrets(): Promise<string[]>;
}

/**
 * Parses the function environment, naming the variable that is wrong. An
 * empty variable counts as unset.
 */
export function parseFunctionEnv(env: NodeJS.ProcessEnv): FunctionEnv {
  const set = Object.fromEntries(
    Object.entries(env).filter(
      ([, value]) => value !== undefined && value !== '',
    ),
  );
  const parsed = FunctionEnvSchema.safeParse(set);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UsageError(
      `invalid environment variable ${issue?.path.join('.')}: ${issue?.message}`,
    );
  }

  return parsed.data;
}

/** Reads secrets from SSM Parameter Store with decryption and a cache. */
export class SecretReader {
  private readonly provider: SSMProvider;

  constructor(
    private readonly env: FunctionEnv,
    ssm?: SSMClient,
  ) {
    this.provider = new SSMProvider(ssm ? { awsSdkV3Client: ssm } : {});
  }

  async selectelCredentials(): Promise<SelectelCredentials> {
    const { env } = this;
    if (env.SELECTEL_API_KEY_PARAM) {
      return {
        kind: 'apiKey',
        apiKey: await this.read(env.SELECTEL_API_KEY_PARAM),
      };
    }
    if (env.SELECTEL_USERNAME && env.SELECTEL_PASSWORD_PARAM) {
      return {
        kind: 'serviceUser',
        username: env.SELECTEL_USERNAME,
        password: await this.read(env.SELECTEL_PASSWORD_PARAM),
      };
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

    throw new UsageError(
      'no Selectel credentials: set SELECTEL_API_KEY_PARAM, or SELECTEL_USERNAME and SELECTEL_PASSWORD_PARAM, to SSM parameter names',
    );
  }

  async webhookSecrets(): Promise<string[]> {
    if (this.env.WEBHOOK_SECRET_PARAM) {
      // A comma-separated value contains the new and the old secret during a rotation.
      return splitSecrets(await this.read(this.env.WEBHOOK_SECRET_PARAM));
    }
    if (this.env.WEBHOOK_SECRET) return splitSecrets(this.env.WEBHOOK_SECRET);

    throw new UsageError(
      'no webhook secret: set WEBHOOK_SECRET_PARAM to an SSM parameter name',
    );
  }

  private async read(name: string): Promise<string> {
    const value = await this.provider.get(name, {
      decrypt: true,
      maxAge: this.env.SECRETS_MAX_AGE_SECONDS,
    });
    if (typeof value !== 'string' || value.length === 0) {
      throw new UsageError(
        `SSM parameter ${name} is empty or missing; store the secret as a SecureString`,
      );
    }

    return value;
  }
}

/** Builds the runtime of a function from its environment and SSM. */
export async function createFunctionRuntime(
  env: FunctionEnv,
  log: Log,
  clients: AwsClients = {},
  secretReader = new SecretReader(env, clients.ssm),
): Promise<FunctionRuntime> {
  if (!env.BUDGET_GUARD_CONFIG.endsWith('.json')) {
    throw new UsageError(
      `BUDGET_GUARD_CONFIG=${env.BUDGET_GUARD_CONFIG} is not a .json file; the functions read the JSON budgets that npm run package (or serverless invoke local) writes from budgets.yml`,
    );
  }
  const config = await loadJsonConfig(env.BUDGET_GUARD_CONFIG);
  if (env.SELECTEL_ACCOUNT && env.SELECTEL_ACCOUNT !== config.account) {
    throw new UsageError(
      `SELECTEL_ACCOUNT=${env.SELECTEL_ACCOUNT} differs from account "${config.account}" in the config`,
    );
  }
  const credentials = await secretReader.selectelCredentials();
  const selectel = selectelFromConfig(config, credentials, log);
  const dynamodb =
    env.STATE_TABLE || env.IDEMPOTENCY_TABLE
      ? (clients.dynamodb ?? new DynamoDBClient({}))
      : undefined;
  const store = new StateStore(
    env.STATE_TABLE && dynamodb
      ? new DynamoItemStore(env.STATE_TABLE, dynamodb)
      : new FileItemStore(`${env.BUDGET_GUARD_STATE_DIR}/state`),
  );
  const notifier: Notifier = env.ALERTS_TOPIC_ARN
    ? new SnsNotifier(env.ALERTS_TOPIC_ARN, clients.sns)
    : new LocalNotifier(`${env.BUDGET_GUARD_STATE_DIR}/outbox.jsonl`);
  if (!env.STATE_TABLE || !env.ALERTS_TOPIC_ARN) {
    log.warn(
      'running without STATE_TABLE or ALERTS_TOPIC_ARN; using the local file store and outbox',
      {
        stateDir: env.BUDGET_GUARD_STATE_DIR,
      },
    );
  }

  return {
    env,
    config,
    selectel,
    store,
    notifier,
    actions: new QuotaActions({ config, selectel, store, notifier, log }),
    dynamodb,
    secrets: [...selectel.secrets],
    webhookSecrets: () => secretReader.webhookSecrets(),
  };
}

function splitSecrets(value: string): string[] {
  return value
    .split(',')
    .map((secret) => secret.trim())
    .filter(Boolean);
}
