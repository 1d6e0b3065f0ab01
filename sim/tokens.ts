import { randomBytes } from 'node:crypto';
import type { Scenario } from './scenario.js';
import type { SimRequest, SimResponse } from './types.js';

interface TokenRecord {
  issuedAtMs: number;
  calls: number;
  expiresEarly: boolean;
  revoked: boolean;
  ttlMs: number;
}

interface KeystoneBody {
  auth?: {
    identity?: {
      password?: {
        user?: {
          name?: unknown;
          password?: unknown;
          domain?: { name?: unknown };
        };
      };
    };
  };
}

/**
 * Tokens of the simulated account: issued by resell `/tokens` for the API
 * key and by Keystone for the service user, and expired early as the
 * scenario's `tokenExpiry` says.
 */
export class TokenBook {
  /** Tokens issued, by either auth path. */
  issuedCount = 0;
  private readonly tokens = new Map<string, TokenRecord>();

  constructor(
    private readonly scenario: Scenario,
    private readonly now: () => number,
    private readonly catalog: () => unknown[],
  ) {}

  get issued(): string[] {
    return [...this.tokens.keys()];
  }

  issueResellToken(req: SimRequest): SimResponse {
    const body = req.body as { token?: { account_name?: unknown } } | undefined;
    if (req.headers['x-token'] !== this.scenario.apiKey) {
      return { status: 401, body: { error: 'unauthorized' } };
    }
    if (body?.token?.account_name !== this.scenario.account) {
      return { status: 403, body: { error: 'account_mismatch' } };
    }

    return { status: 200, body: { token: { id: this.newToken() } } };
  }

  issueKeystoneToken(req: SimRequest): SimResponse {
    const user = (req.body as KeystoneBody | undefined)?.auth?.identity
      ?.password?.user;
    const { username, password } = this.scenario.serviceUser;
    const account = this.scenario.account;
    if (
      user?.name !== username ||
      user?.password !== password ||
      user?.domain?.name !== account
    ) {
      return {
        status: 401,
        body: {
          error: {
            code: 401,
            title: 'Unauthorized',
            message: 'The request you have made requires authentication.',
          },
        },
      };
    }
    const token = this.newToken();
    const nowMs = this.now();

    return {
      status: 201,
      headers: { 'x-subject-token': token },
      body: {
        token: {
          methods: ['password'],
          issued_at: new Date(nowMs).toISOString(),
          expires_at: new Date(
            nowMs + this.scenario.tokenTtlSeconds * 1000,
          ).toISOString(),
          user: { name: username, domain: { name: account } },
          domain: { name: account },
          catalog: this.catalog(),
        },
      },
    };
  }

  /** Revokes every token issued so far, so each later use gets a 401. */
  revokeAll(): void {
    for (const token of this.tokens.values()) token.revoked = true;
  }

  /** Counts a call against a token and returns whether the token is valid. */
  use(header: string | string[] | undefined): boolean {
    const token =
      typeof header === 'string' ? this.tokens.get(header) : undefined;
    if (!token || token.revoked) return false;
    const ageMs = this.now() - token.issuedAtMs;
    if (ageMs >= token.ttlMs) return false;
    const { afterSeconds, afterCalls } = this.scenario.tokenExpiry;
    if (token.expiresEarly) {
      if (afterSeconds !== undefined && ageMs >= afterSeconds * 1000)
        return false;
      if (afterCalls !== undefined && token.calls >= afterCalls) return false;
    }
    token.calls++;

    return true;
  }

  private newToken(): string {
    const token = randomBytes(16).toString('hex');
    this.issuedCount++;
    const { firstTokens } = this.scenario.tokenExpiry;
    this.tokens.set(token, {
      issuedAtMs: this.now(),
      calls: 0,
      expiresEarly:
        firstTokens === undefined || this.issuedCount <= firstTokens,
      revoked: false,
      ttlMs: this.scenario.tokenTtlSeconds * 1000,
    });

    return token;
  }
}
