/** Stable codes of Selectel client failures; branch on these, not on text. */
export const SelectelErrorCode = {
  badRequest: 'bad_request',
  unauthorized: 'unauthorized',
  forbidden: 'forbidden',
  notFound: 'not_found',
  conflict: 'conflict',
  rateLimited: 'rate_limited',
  serverError: 'server_error',
  httpError: 'http_error',
  timeout: 'timeout',
  networkError: 'network_error',
  invalidResponse: 'invalid_response',
  authFailed: 'auth_failed',
} as const;
export type SelectelErrorCode =
  (typeof SelectelErrorCode)[keyof typeof SelectelErrorCode];

/** Method and path of a failed request, without the query string or headers. */
export interface RequestContext {
  method: string;
  path: string;
  /** Base URL the path was sent to, so a message names the host; never a query. */
  endpoint?: string;
  attempts?: number;
}

/** `METHOD https://host/base/path`, or `METHOD /path` without an endpoint. */
function target(context: RequestContext): string {
  return `${context.method} ${context.endpoint ?? ''}${context.path}`;
}

/** Base class of every error the Selectel client throws. */
export class SelectelError extends Error {
  override name = 'SelectelError';
  readonly code: SelectelErrorCode;
  readonly status: number | undefined;
  readonly method: string;
  readonly path: string;
  readonly endpoint: string | undefined;
  readonly attempts: number;

  constructor(
    code: SelectelErrorCode,
    message: string,
    context: RequestContext & { status?: number; cause?: unknown },
  ) {
    super(message, { cause: context.cause });
    this.code = code;
    this.status = context.status;
    this.method = context.method;
    this.path = context.path;
    this.endpoint = context.endpoint;
    this.attempts = context.attempts ?? 1;
  }

  /** Tells whether another attempt of the same request may succeed. */
  get retryable(): boolean {
    return (
      this.code === SelectelErrorCode.rateLimited ||
      this.code === SelectelErrorCode.timeout ||
      this.code === SelectelErrorCode.networkError ||
      (this.code === SelectelErrorCode.serverError &&
        RETRYABLE_STATUSES.has(this.status ?? 0))
    );
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      status: this.status,
      method: this.method,
      endpoint: this.endpoint,
      path: this.path,
      attempts: this.attempts,
      message: this.message,
    };
  }
}

/** Statuses that are worth another attempt: 429 and the transient 5xx. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([
  429, 502, 503, 504,
]);

/** A response with an error status, after any retries. */
export class SelectelHttpError extends SelectelError {
  override name = 'SelectelHttpError';
  /** Selectel's own error code from the body, such as `cant_set_quota`. */
  readonly upstreamCode: string | undefined;
  /** Per-entry errors of a quota request, when the body lists them. */
  readonly entries: readonly QuotaEntryError[];
  /** Seconds the server asked to wait, from `Retry-After`. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    context: RequestContext & {
      status: number;
      upstreamCode?: string;
      entries?: QuotaEntryError[];
      retryAfterSeconds?: number;
    },
  ) {
    const upstream = context.upstreamCode ? ` (${context.upstreamCode})` : '';
    super(
      codeForStatus(context.status),
      `${target(context)} failed with HTTP ${context.status}${upstream}`,
      context,
    );
    this.upstreamCode = context.upstreamCode;
    this.entries = context.entries ?? [];
    this.retryAfterSeconds = context.retryAfterSeconds;
  }

  override toJSON(): Record<string, unknown> {
    return {
      ...super.toJSON(),
      upstreamCode: this.upstreamCode,
      entries: this.entries,
    };
  }
}

/** One quota entry that Selectel did not apply or could not read. */
export interface QuotaEntryError {
  resource: string;
  zone: string | null;
  message: string;
  code: number | string | null;
}

/** A response whose body does not have the documented shape. */
export class SelectelResponseError extends SelectelError {
  override name = 'SelectelResponseError';
  /** Paths of the fields that failed validation, such as `quotas.compute_cores.0.value`. */
  readonly issues: readonly string[];

  constructor(context: RequestContext & { status: number; issues: string[] }) {
    super(
      SelectelErrorCode.invalidResponse,
      `${target(context)} returned an unexpected body (${context.issues.slice(0, 3).join('; ')})`,
      context,
    );
    this.issues = context.issues;
  }
}

/** A connection failure or a request that ran past its timeout. */
export class SelectelNetworkError extends SelectelError {
  override name = 'SelectelNetworkError';

  constructor(context: RequestContext & { timedOut: boolean; cause: unknown }) {
    const what = context.timedOut ? 'timed out' : 'failed to connect';
    super(
      context.timedOut
        ? SelectelErrorCode.timeout
        : SelectelErrorCode.networkError,
      `${target(context)} ${what}`,
      context,
    );
  }
}

/** Selectel rejected the credentials while issuing a token. */
export class SelectelAuthError extends SelectelError {
  override name = 'SelectelAuthError';

  constructor(context: RequestContext & { status?: number; cause?: unknown }) {
    super(
      SelectelErrorCode.authFailed,
      `issuing a Selectel token failed at ${target(context)}` +
        (context.status ? ` with HTTP ${context.status}` : '') +
        '; check the API key or the service user credentials and the account number',
      context,
    );
  }
}

function codeForStatus(status: number): SelectelErrorCode {
  if (status === 400 || status === 422) return SelectelErrorCode.badRequest;
  if (status === 401) return SelectelErrorCode.unauthorized;
  if (status === 403) return SelectelErrorCode.forbidden;
  if (status === 404) return SelectelErrorCode.notFound;
  if (status === 409) return SelectelErrorCode.conflict;
  if (status === 429) return SelectelErrorCode.rateLimited;
  if (status >= 500) return SelectelErrorCode.serverError;

  return SelectelErrorCode.httpError;
}
