import { type Log, silentLog } from '../log.js';
import { SelectelAuthError, SelectelHttpError } from './errors.js';
import type { SelectelHttp, TokenSource } from './http.js';
import {
  type CatalogEntry,
  KeystoneTokenSchema,
  ResellTokenSchema,
} from './schemas.js';

/** A token as issued, with what is known of its life and the service catalog. */
export interface IssuedToken {
  token: string;
  /** Absent when the issuer gives no expiry, and the cache then assumes a lifetime. */
  expiresAtMs?: number;
  catalog?: CatalogEntry[];
}

export type TokenIssuer = () => Promise<IssuedToken>;

export interface TokenCacheOptions {
  now?: () => number;
  /** Refresh this long before the token expires. */
  refreshMarginMs?: number;
  /**
   * Lifetime assumed for tokens issued without an expiry. Resell v2 tokens
   * carry none; Selectel's clients treat them as valid for about 24 hours.
   */
  assumedLifetimeMs?: number;
  log?: Log;
}

interface CachedToken {
  token: string;
  refreshAtMs: number;
  expiresAtMs: number;
  catalog: CatalogEntry[] | undefined;
}

/**
 * One cached token shared by every request. Concurrent callers wait on a
 * single refresh, and a rejected token is dropped only if it is still the
 * cached one, so a burst of 401s costs one reissue.
 */
export class TokenCache implements TokenSource {
  /** Tokens issued so far, for tests and run summaries. */
  issued = 0;
  private current: CachedToken | undefined;
  private pending: Promise<CachedToken> | undefined;
  private readonly now: () => number;
  private readonly refreshMarginMs: number;
  private readonly assumedLifetimeMs: number;
  private readonly log: Log;

  constructor(
    private readonly issuer: TokenIssuer,
    options: TokenCacheOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.refreshMarginMs = options.refreshMarginMs ?? 5 * 60_000;
    this.assumedLifetimeMs = options.assumedLifetimeMs ?? 23 * 3_600_000;
    this.log = options.log ?? silentLog;
  }

  async get(): Promise<string> {
    return (await this.fresh()).token;
  }

  /** Returns the service catalog that came with the token, if any. */
  async catalog(): Promise<CatalogEntry[] | undefined> {
    return (await this.fresh()).catalog;
  }

  invalidate(token: string): void {
    if (this.current?.token === token) this.current = undefined;
  }

  private async fresh(): Promise<CachedToken> {
    const current = this.current;
    if (current && this.now() < current.refreshAtMs) return current;
    try {
      return await this.refresh();
    } catch (error) {
      // A token inside its refresh margin still works: keep it until expiry.
      if (
        current &&
        this.current === current &&
        this.now() < current.expiresAtMs
      ) {
        this.log.warn('Selectel token refresh failed, using the cached token', {
          error,
        });
        return current;
      }
      throw error;
    }
  }

  private refresh(): Promise<CachedToken> {
    this.pending ??= this.issue().finally(() => {
      this.pending = undefined;
    });

    return this.pending;
  }

  private async issue(): Promise<CachedToken> {
    const issuedAtMs = this.now();
    const issued = await this.issuer();
    this.issued++;
    const expiresAtMs =
      issued.expiresAtMs ?? issuedAtMs + this.assumedLifetimeMs;
    const lifetimeMs = expiresAtMs - issuedAtMs;
    const marginMs = Math.min(this.refreshMarginMs, lifetimeMs / 2);
    const cached = {
      token: issued.token,
      expiresAtMs,
      refreshAtMs: expiresAtMs - marginMs,
      catalog: issued.catalog,
    };
    this.current = cached;
    this.log.debug('Selectel token issued', {
      expiresAt: new Date(expiresAtMs).toISOString(),
    });

    return cached;
  }
}

/** Issues an account token from an API key through resell v2 `POST /tokens`. */
export function apiKeyIssuer(
  http: SelectelHttp,
  options: { resellUrl: string; apiKey: string; account: string },
): TokenIssuer {
  return async () => {
    const result = await asAuthError(
      http.send({
        baseUrl: options.resellUrl,
        method: 'POST',
        path: '/tokens',
        headers: { 'x-token': options.apiKey },
        body: { token: { account_name: options.account } },
        schema: ResellTokenSchema,
      }),
    );

    return { token: result.data.token.id };
  };
}

/** Issues a domain-scoped Keystone v3 token for a service user. */
export function serviceUserIssuer(
  http: SelectelHttp,
  options: {
    identityUrl: string;
    username: string;
    password: string;
    account: string;
  },
): TokenIssuer {
  return async () => {
    const result = await asAuthError(
      http.send({
        baseUrl: options.identityUrl,
        method: 'POST',
        path: '/auth/tokens',
        body: keystonePasswordBody(options),
        schema: KeystoneTokenSchema,
      }),
    );
    const header = result.headers['x-subject-token'];
    const token = Array.isArray(header) ? header[0] : header;
    if (!token) {
      throw new SelectelAuthError({
        method: 'POST',
        path: '/auth/tokens',
        status: result.status,
      });
    }
    const expiresAtMs = Date.parse(result.data.token.expires_at);

    return {
      token,
      expiresAtMs: Number.isNaN(expiresAtMs) ? undefined : expiresAtMs,
      catalog: result.data.token.catalog,
    };
  };
}

function keystonePasswordBody(options: {
  username: string;
  password: string;
  account: string;
}) {
  return {
    auth: {
      identity: {
        methods: ['password'],
        password: {
          user: {
            name: options.username,
            domain: { name: options.account },
            password: options.password,
          },
        },
      },
      scope: { domain: { name: options.account } },
    },
  };
}

/** Turns a rejected token request (400, 401, 403, 404) into `auth_failed`. */
async function asAuthError<T>(promise: Promise<T>): Promise<T> {
  try {
    return await promise;
  } catch (error) {
    if (
      error instanceof SelectelHttpError &&
      [400, 401, 403, 404].includes(error.status ?? 0)
    ) {
      throw new SelectelAuthError({
        method: error.method,
        path: error.path,
        status: error.status,
        attempts: error.attempts,
        cause: error,
      });
    }
    throw error;
  }
}
