import { setTimeout as delay } from 'node:timers/promises';
import { Agent, type Dispatcher } from 'undici';
import type * as z from 'zod';
import { type Log, silentLog } from '../log.js';
import {
  type QuotaEntryError,
  RETRYABLE_STATUSES,
  SelectelError,
  SelectelHttpError,
  SelectelNetworkError,
  SelectelResponseError,
} from './errors.js';

/** Retry limits for failed requests. */
export interface RetryPolicy {
  /** Attempts in all, the first one included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** No retry starts once this much time has passed since the first attempt. */
  totalBudgetMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 5,
  baseDelayMs: 200,
  maxDelayMs: 10_000,
  totalBudgetMs: 30_000,
};

/** Source of the token sent with each authenticated request. */
export interface TokenSource {
  get(): Promise<string>;
  /** Drops `token` if it is still the cached one, so the next `get` reissues. */
  invalidate(token: string): void;
}

export interface HttpOptions {
  /** undici dispatcher; the default is a keep-alive `Agent`. */
  dispatcher?: Dispatcher;
  /** Upper bound on open connections per origin for the default agent. */
  maxConnectionsPerOrigin?: number;
  /** Timeout of one attempt, headers and body together. */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  /** Source of jitter in [0, 1). */
  random?: () => number;
  log?: Log;
}

type QueryValue = string | number | boolean | undefined | readonly string[];

export interface SendRequest<T> {
  baseUrl: string;
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, QueryValue>;
  headers?: Record<string, string>;
  body?: unknown;
  schema: z.ZodType<T>;
  /** Statuses read as success; 2xx by default. */
  okStatuses?: readonly number[];
  /** Adds `X-Auth-Token` from this source and refreshes it once on a 401. */
  auth?: TokenSource;
}

export interface SendResult<T> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  data: T;
}

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/**
 * JSON over HTTP with the retry rules Selectel's clients follow: 429, 502,
 * 503, 504 and network failures are retried with jittered exponential backoff
 * and `Retry-After`, and a 401 refreshes the token once.
 *
 * NOTE: undici's `RetryAgent` is not used because the retry delay must come
 * from an injectable sleep and the 401 refresh has to sit inside the same loop.
 */
export class SelectelHttp {
  readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private closed = false;
  private readonly timeoutMs: number;
  private readonly retry: RetryPolicy;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly log: Log;

  constructor(options: HttpOptions = {}) {
    this.ownsDispatcher = options.dispatcher === undefined;
    this.dispatcher =
      options.dispatcher ??
      new Agent({
        connections: options.maxConnectionsPerOrigin ?? 16,
        keepAliveTimeout: 10_000,
        keepAliveMaxTimeout: 60_000,
      });
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.sleep = options.sleep ?? ((ms) => delay(ms));
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.log = options.log ?? silentLog;
  }

  /** Sends one request, retrying as the policy allows, and validates the body. */
  async send<T>(req: SendRequest<T>): Promise<SendResult<T>> {
    const startedMs = this.now();
    const context = {
      method: req.method,
      path: req.path,
      endpoint: req.baseUrl.replace(/\/+$/, ''),
    };
    let refreshed = false;

    for (let attempt = 1; ; attempt++) {
      const token = req.auth ? await req.auth.get() : undefined;
      let failure: SelectelError;
      try {
        const raw = await this.dispatch(req, token);
        if (raw.status === 401 && req.auth && token && !refreshed) {
          refreshed = true;
          req.auth.invalidate(token);
          this.log.warn('Selectel token rejected, reissuing', context);
          attempt--;
          continue;
        }
        if (isOk(raw.status, req.okStatuses)) {
          return { ...raw, data: parseBody(req, raw, attempt) };
        }
        failure = httpError(raw, { ...context, attempts: attempt });
      } catch (error) {
        if (error instanceof SelectelError) throw error;
        failure = new SelectelNetworkError({
          ...context,
          attempts: attempt,
          timedOut: isTimeout(error),
          cause: error,
        });
      }
      const waitMs = this.retryDelay(failure, attempt, startedMs);
      if (waitMs === undefined) throw failure;
      this.log.warn('retrying Selectel request', {
        ...context,
        attempt,
        status: failure.status,
        code: failure.code,
        delayMs: waitMs,
      });
      await this.sleep(waitMs);
    }
  }

  /** Closes the connection pool if this instance created it; safe to repeat. */
  async close(): Promise<void> {
    if (!this.ownsDispatcher || this.closed) return;
    this.closed = true;
    await this.dispatcher.close();
  }

  private retryDelay(
    failure: SelectelError,
    attempt: number,
    startedMs: number,
  ): number | undefined {
    if (!failure.retryable || attempt >= this.retry.maxAttempts) {
      return undefined;
    }
    const asked =
      failure instanceof SelectelHttpError
        ? failure.retryAfterSeconds
        : undefined;
    const waitMs = asked !== undefined ? asked * 1000 : this.backoffMs(attempt);
    const elapsedMs = this.now() - startedMs;
    if (elapsedMs + waitMs > this.retry.totalBudgetMs) return undefined;

    return waitMs;
  }

  /** Exponential backoff with equal jitter: half fixed, half random. */
  private backoffMs(attempt: number): number {
    const ceilingMs = Math.min(
      this.retry.maxDelayMs,
      this.retry.baseDelayMs * 2 ** (attempt - 1),
    );

    return Math.round(ceilingMs / 2 + (this.random() * ceilingMs) / 2);
  }

  private async dispatch<T>(
    req: SendRequest<T>,
    token: string | undefined,
  ): Promise<RawResponse> {
    const headers: Record<string, string> = {
      accept: 'application/json',
      ...req.headers,
    };
    if (token) headers['x-auth-token'] = token;
    let body: string | undefined;
    if (req.body !== undefined) {
      body = JSON.stringify(req.body);
      headers['content-type'] = 'application/json';
    }
    const url = new URL(buildUrl(req));
    const response = await this.dispatcher.request({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: req.method,
      headers,
      body,
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await response.body.text();

    return { status: response.statusCode, headers: response.headers, text };
  }
}

/** Joins a base URL, a path and a query; `+` in offsets is percent-encoded. */
export function buildUrl(req: {
  baseUrl: string;
  path: string;
  query?: Record<string, QueryValue>;
}): string {
  const url = req.baseUrl.replace(/\/+$/, '') + req.path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(req.query ?? {})) {
    if (value === undefined) continue;
    const values: readonly string[] = Array.isArray(value)
      ? (value as readonly string[])
      : [String(value)];
    for (const item of values) params.append(key, item);
  }
  const search = params.toString();

  return search ? `${url}?${search}` : url;
}

function isOk(status: number, okStatuses?: readonly number[]): boolean {
  return okStatuses
    ? okStatuses.includes(status)
    : status >= 200 && status < 300;
}

function parseBody<T>(
  req: SendRequest<T>,
  raw: RawResponse,
  attempts: number,
): T {
  let json: unknown = null;
  if (raw.text.length > 0) {
    try {
      json = JSON.parse(raw.text);
    } catch {
      throw new SelectelResponseError({
        method: req.method,
        path: req.path,
        endpoint: req.baseUrl.replace(/\/+$/, ''),
        status: raw.status,
        attempts,
        issues: ['body is not JSON'],
      });
    }
  }
  const parsed = req.schema.safeParse(json);
  if (!parsed.success) {
    throw new SelectelResponseError({
      method: req.method,
      path: req.path,
      endpoint: req.baseUrl.replace(/\/+$/, ''),
      status: raw.status,
      attempts,
      issues: parsed.error.issues.map(
        (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
      ),
    });
  }

  return parsed.data;
}

function httpError(
  raw: RawResponse,
  context: { method: string; path: string; endpoint: string; attempts: number },
): SelectelHttpError {
  const details = readErrorBody(raw.text);

  return new SelectelHttpError({
    ...context,
    status: raw.status,
    upstreamCode: details.code,
    entries: details.entries,
    retryAfterSeconds: RETRYABLE_STATUSES.has(raw.status)
      ? parseRetryAfter(raw.headers['retry-after'])
      : undefined,
  });
}

/**
 * Reads Selectel's error code and per-entry errors from an error body:
 * resell returns `{"error":"code"}`, the quota manager
 * `{"error":{"message","code","errors":[...]}}`, Gnocchi `{"code","title"}`.
 * Free text from the body is never kept, so it cannot leak into messages.
 */
export function readErrorBody(text: string): {
  code?: string;
  entries: QuotaEntryError[];
} {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { entries: [] };
  }
  if (!isRecord(json)) return { entries: [] };
  const error = json.error;
  if (typeof error === 'string') {
    return { code: safeCode(error), entries: [] };
  }
  if (isRecord(error)) {
    return {
      code: safeCode(error.message),
      entries: readEntryErrors(error.errors),
    };
  }

  return { code: safeCode(json.title), entries: [] };
}

/** Reads `[{resource, zone, message, code}]` from a quota manager body. */
export function readEntryErrors(value: unknown): QuotaEntryError[] {
  if (!Array.isArray(value)) return [];

  return value.filter(isRecord).map((entry) => ({
    resource: typeof entry.resource === 'string' ? entry.resource : '',
    zone: typeof entry.zone === 'string' ? entry.zone : null,
    message:
      typeof entry.message === 'string' ? entry.message.slice(0, 200) : '',
    code:
      typeof entry.code === 'number' || typeof entry.code === 'string'
        ? entry.code
        : null,
  }));
}

function safeCode(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;

  return /^[A-Za-z][A-Za-z0-9 _-]{0,63}$/.test(value) ? value : undefined;
}

/** Parses `Retry-After` as seconds or as an HTTP date, capped at one hour. */
export function parseRetryAfter(
  header: string | string[] | undefined,
  nowMs: number = Date.now(),
): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds, 3600);
  const dateMs = Date.parse(value);
  if (Number.isNaN(dateMs)) return undefined;

  return Math.min(Math.max(0, Math.ceil((dateMs - nowMs) / 1000)), 3600);
}

function isTimeout(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;

  return (
    error.name === 'TimeoutError' ||
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT' ||
    code === 'UND_ERR_CONNECT_TIMEOUT'
  );
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
