import { createHash } from 'node:crypto';
import { QuotaActionError } from '../quota/errors.js';
import type { ActionRequest, ActionResult } from '../quota/types.js';
import { actionJson } from '../quota/json.js';
import type { Log } from '../log.js';
import type { StateStore } from '../state/store.js';
import { MAX_BODY_BYTES, WebhookRequestSchema } from './request.js';
import {
  SIGNATURE_HEADER,
  SIGNATURE_TOLERANCE_SECONDS,
  verifySignature,
} from './signature.js';

export interface WebhookInput {
  headers: Record<string, string | undefined>;
  body: string | undefined;
  isBase64Encoded?: boolean;
}

export interface WebhookResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

export interface WebhookDeps {
  secrets: () => Promise<readonly string[]>;
  store: StateStore;
  /** Runs a validated request; the Lambda wraps it with Powertools idempotency. */
  execute: (
    request: ActionRequest & { requestId: string },
  ) => Promise<ActionResult>;
  log: Log;
  nowMs: number;
  /** Id of this invocation, returned with internal errors for support. */
  invocationId: string;
}

/** A response the webhook gives before any Selectel call: status and short message. */
class Rejection extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Handles `POST /quota-actions`. The size bound and the HMAC signature are
 * checked before the body is read, a signature is accepted once, and every
 * failure becomes a short 4xx; anything unexpected is a plain 500.
 */
export async function handleWebhook(
  input: WebhookInput,
  deps: WebhookDeps,
): Promise<WebhookResponse> {
  try {
    const rawBody = rawBodyOf(input);
    const signed = await authenticate(input, rawBody, deps);
    const request = parseRequest(rawBody);
    const result = await deps.execute({
      action: request.action,
      project: request.project,
      ...(request.mode ? { mode: request.mode } : {}),
      dryRun: request.dryRun ?? false,
      requestId: request.requestId ?? `webhook:${signed.slice(0, 40)}`,
      source: 'webhook',
      actor: 'webhook',
      reason: request.reason ?? `${request.action} through the webhook`,
    });
    return respond(statusFor(result), actionJson(result));
  } catch (error) {
    return errorResponse(error, deps);
  }
}

function rawBodyOf(input: WebhookInput): Buffer {
  const body = input.body ?? '';
  const raw = input.isBase64Encoded
    ? Buffer.from(body, 'base64')
    : Buffer.from(body, 'utf8');
  if (raw.length > MAX_BODY_BYTES) {
    throw new Rejection(
      413,
      `body too large: the limit is ${MAX_BODY_BYTES} bytes`,
    );
  }
  if (raw.length === 0)
    throw new Rejection(400, 'empty body: send a JSON object');

  return raw;
}

async function authenticate(
  input: WebhookInput,
  rawBody: Buffer,
  deps: WebhookDeps,
): Promise<string> {
  const header = headerValue(input.headers, SIGNATURE_HEADER);
  const check = verifySignature({
    header,
    rawBody,
    secrets: await deps.secrets(),
    nowSeconds: Math.floor(deps.nowMs / 1000),
  });
  if (!check.ok) {
    deps.log.warn('webhook signature rejected', {
      reason: check.reason,
      invocationId: deps.invocationId,
    });
    throw new Rejection(401, signatureMessage(check.reason));
  }
  // A signed request is good once: the same time and body inside the window
  // is a replay, whichever of the signatures (old or new secret) it carries.
  const signed = `${check.timestamp}:${createHash('sha256').update(rawBody).digest('hex')}`;
  const fresh = await deps.store.rememberOnce(
    `webhook-request:${signed}`,
    deps.nowMs,
    2 * SIGNATURE_TOLERANCE_SECONDS * 1000,
  );
  if (!fresh) {
    deps.log.warn('webhook signature replayed', {
      invocationId: deps.invocationId,
    });
    throw new Rejection(
      409,
      'request already received: sign it again with a new time, or send another requestId',
    );
  }

  return signed;
}

function parseRequest(rawBody: Buffer) {
  let json: unknown;
  try {
    json = JSON.parse(rawBody.toString('utf8'));
  } catch {
    throw new Rejection(400, 'invalid JSON body');
  }
  const parsed = WebhookRequestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.join('.') || 'body';
    throw new Rejection(
      400,
      `invalid request: ${path}: ${issue?.message ?? 'invalid'}`.slice(0, 300),
    );
  }

  return parsed.data;
}

function signatureMessage(reason: string): string {
  switch (reason) {
    case 'missing':
      return `missing ${SIGNATURE_HEADER} header`;
    case 'malformed':
      return `malformed ${SIGNATURE_HEADER} header: expected t=<unix time>,v1=<hex>`;
    case 'stale':
    case 'future':
      return `signature time is more than ${SIGNATURE_TOLERANCE_SECONDS} s from now: sign the request again`;
    default:
      return 'invalid signature';
  }
}

/** HTTP status of a quota action result. */
function statusFor(result: ActionResult): number {
  switch (result.status) {
    case 'partial':
      return 207;
    case 'refused':
      return 403;
    case 'failed':
      return 502;
    default:
      return 200;
  }
}

/** Turns every error into a response, in one place, so internals never leave. */
function errorResponse(error: unknown, deps: WebhookDeps): WebhookResponse {
  if (error instanceof Rejection)
    return respond(error.statusCode, { error: error.message });
  if (error instanceof QuotaActionError) {
    const statusCode =
      error.code === 'project_not_found'
        ? 404
        : error.code === 'project_ambiguous' ||
            error.code === 'request_id_conflict' ||
            error.code === 'request_in_progress'
          ? 409
          : 400;
    return respond(statusCode, { error: error.message });
  }
  deps.log.error('webhook request failed', {
    error,
    invocationId: deps.invocationId,
  });

  return respond(500, {
    error: 'internal error',
    invocationId: deps.invocationId,
  });
}

function respond(statusCode: number, body: unknown): WebhookResponse {
  return {
    statusCode,
    headers: {
      'content-type': 'application/json',
      'cache-control': 'no-store',
    },
    body: JSON.stringify(body),
  };
}

function headerValue(
  headers: Record<string, string | undefined>,
  name: string,
): string | undefined {
  for (const [key, value] of Object.entries(headers ?? {})) {
    if (key.toLowerCase() === name) return value;
  }

  return undefined;
}
