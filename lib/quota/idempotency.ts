import {
  IdempotencyAlreadyInProgressError,
  type IdempotencyConfig,
  IdempotencyValidationError,
  makeIdempotent,
} from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { QuotaActionError } from './errors.js';
import type { ActionRequest, ActionResult } from './types.js';

type Execute = (
  request: ActionRequest & { requestId: string },
) => Promise<ActionResult>;

/** Results kept for repeats of a request id; the core keeps the same ones. */
const KEPT_STATUSES = new Set(['done', 'refused']);

/** Carries a result past Powertools so that it is returned but not stored. */
class UnkeptResult extends Error {
  constructor(readonly result: ActionResult) {
    super('result not kept for repeats');
  }
}

/**
 * Wraps quota actions with Powertools idempotency on DynamoDB, keyed by the
 * request id. A repeat that asks for something else (action, project, mode,
 * dry run) is a conflict, and only final results (done, refused) of real runs
 * are stored, so a dry run or a partial, failed or skipped action can be
 * repeated with the same id and does the work again.
 */
export function idempotentActions(
  execute: Execute,
  options: {
    tableName: string;
    client: DynamoDBClient;
    config: IdempotencyConfig;
  },
): Execute {
  const wrapped = makeIdempotent(
    async (request: ActionRequest & { requestId: string }) => {
      const result = await execute(request);
      if (result.dryRun || !KEPT_STATUSES.has(result.status))
        throw new UnkeptResult(result);
      return result;
    },
    {
      persistenceStore: new DynamoDBPersistenceLayer({
        tableName: options.tableName,
        awsSdkV3Client: options.client,
      }),
      config: options.config,
    },
  );

  return async (request) => {
    try {
      return await wrapped(request);
    } catch (error) {
      if (error instanceof UnkeptResult) return error.result;
      if (error instanceof IdempotencyValidationError) {
        throw new QuotaActionError(
          'request_id_conflict',
          `request id ${JSON.stringify(request.requestId)} was already used for a different request; use a new request id`,
        );
      }
      if (error instanceof IdempotencyAlreadyInProgressError) {
        throw new QuotaActionError(
          'request_in_progress',
          `request ${JSON.stringify(request.requestId)} is still in progress; try again shortly`,
        );
      }
      throw error;
    }
  };
}

/** Fields that must match for a repeat of a request id to be the same request. */
export const REQUEST_FIELDS_PATH = '[action, project, mode, dryRun]';
