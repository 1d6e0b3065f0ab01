import { IdempotencyConfig } from '@aws-lambda-powertools/idempotency';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
  SNSEvent,
} from 'aws-lambda';
import { handleCutEvent } from '../lib/quota/events.js';
import {
  idempotentActions,
  REQUEST_FIELDS_PATH,
} from '../lib/quota/idempotency.js';
import type { ActionRequest, ActionResult } from '../lib/quota/types.js';
import { handleWebhook } from '../lib/webhook/handler.js';
import {
  createFunctionRuntime,
  type FunctionRuntime,
  parseFunctionEnv,
} from '../lib/wiring/aws.js';
import { createLogger, powertoolsLog } from '../lib/wiring/logger.js';

let runtime: Promise<FunctionRuntime> | undefined;
let secrets: readonly string[] = [];
const logger = createLogger('budget-guard-quota-action', () => secrets);
const log = powertoolsLog(logger);
const idempotencyConfig = new IdempotencyConfig({
  eventKeyJmesPath: 'requestId',
  payloadValidationJmesPath: REQUEST_FIELDS_PATH,
  expiresAfterSeconds: 24 * 3600,
});
let idempotentExecute:
  | ((request: ActionRequest & { requestId: string }) => Promise<ActionResult>)
  | undefined;

/**
 * Quota actions: `budget.cut_requested` events from the check through SNS,
 * and signed `POST /quota-actions` requests through the HTTP API.
 */
export async function handler(
  event: SNSEvent | APIGatewayProxyEventV2,
  context: Context,
): Promise<APIGatewayProxyStructuredResultV2 | { processed: number }> {
  logger.addContext(context);
  idempotencyConfig.registerLambdaContext(context);
  const deps = await load();
  if ('Records' in event) {
    return handleCutEvent(event, {
      actions: deps.actions,
      store: deps.store,
      log,
    });
  }
  if (!('requestContext' in event)) {
    logger.error('unknown event shape', { keys: Object.keys(event) });
    throw new Error(
      'quota-action received an event that is neither SNS nor HTTP API',
    );
  }

  return handleWebhook(
    {
      headers: event.headers ?? {},
      body: event.body,
      isBase64Encoded: event.isBase64Encoded,
    },
    {
      secrets: async () => {
        const values = await deps.webhookSecrets();
        secrets = [...deps.secrets, ...values];
        return values;
      },
      store: deps.store,
      execute: executor(deps),
      log,
      nowMs: Date.now(),
      invocationId: context.awsRequestId,
    },
  );
}

async function load(): Promise<FunctionRuntime> {
  runtime ??= createFunctionRuntime(parseFunctionEnv(process.env), log).catch(
    (error: unknown) => {
      runtime = undefined;
      throw error;
    },
  );
  const deps = await runtime;
  secrets = [...deps.secrets];

  return deps;
}

/** Wraps the core with Powertools idempotency on DynamoDB when a table is set. */
function executor(deps: FunctionRuntime) {
  if (!deps.env.IDEMPOTENCY_TABLE || !deps.dynamodb) {
    return (request: ActionRequest & { requestId: string }) =>
      deps.actions.execute(request);
  }
  idempotentExecute ??= idempotentActions(
    (request) => deps.actions.execute(request),
    {
      tableName: deps.env.IDEMPOTENCY_TABLE,
      client: deps.dynamodb,
      config: idempotencyConfig,
    },
  );

  return idempotentExecute;
}
