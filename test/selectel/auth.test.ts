import { afterEach, describe, expect, it } from 'vitest';
import {
  apiKeyIssuer,
  serviceUserIssuer,
  TokenCache,
} from '../../lib/selectel/auth.js';
import { SelectelError } from '../../lib/selectel/errors.js';
import { fixture } from '../helpers/fixtures.js';
import { mockHttp } from '../helpers/mock-http.js';

const RESELL = 'https://api.selectel.ru/vpc/resell/v2';
const IDENTITY = 'https://cloud.api.selcloud.ru/identity/v3';

describe('apiKeyIssuer', () => {
  let mock: ReturnType<typeof mockHttp>;
  afterEach(() => mock.agent.close());

  it('posts the API key and the account number to /tokens', async () => {
    mock = mockHttp();
    let sent: { headers?: unknown; body?: unknown } = {};
    mock.agent
      .get('https://api.selectel.ru')
      .intercept({ path: '/vpc/resell/v2/tokens', method: 'POST' })
      .reply(200, (options) => {
        sent = {
          headers: options.headers,
          body: JSON.parse(String(options.body)),
        };
        return fixture('selectel/resell_token.json');
      });
    const issue = apiKeyIssuer(mock.http, {
      resellUrl: RESELL,
      apiKey: 'key-1',
      account: '000000',
    });

    const issued = await issue();

    expect(issued.token).toBe('gAAAAABfixture0penstack0account0token');
    expect(issued.expiresAtMs).toBeUndefined();
    expect(sent.body).toEqual({ token: { account_name: '000000' } });
    expect(sent.headers).toMatchObject({ 'x-token': 'key-1' });
  });

  it('reports a rejected key as auth_failed without the key', async () => {
    mock = mockHttp();
    mock.agent
      .get('https://api.selectel.ru')
      .intercept({ path: '/vpc/resell/v2/tokens', method: 'POST' })
      .reply(401, { error: 'unauthorized' });
    const issue = apiKeyIssuer(mock.http, {
      resellUrl: RESELL,
      apiKey: 'key-secret-1',
      account: '000000',
    });

    const error = await issue().catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(SelectelError);
    expect((error as SelectelError).code).toBe('auth_failed');
    expect((error as SelectelError).status).toBe(401);
    expect(
      JSON.stringify(error) + String((error as Error).message),
    ).not.toContain('key-secret-1');
  });
});

describe('serviceUserIssuer', () => {
  let mock: ReturnType<typeof mockHttp>;
  afterEach(() => mock.agent.close());

  it('reads the token header, the expiry and the catalog', async () => {
    mock = mockHttp();
    let body: unknown;
    mock.agent
      .get('https://cloud.api.selcloud.ru')
      .intercept({ path: '/identity/v3/auth/tokens', method: 'POST' })
      .reply(
        201,
        (options) => {
          body = JSON.parse(String(options.body));
          return fixture('selectel/keystone_token.json');
        },
        { headers: { 'x-subject-token': 'keystone-token-1' } },
      );
    const issue = serviceUserIssuer(mock.http, {
      identityUrl: IDENTITY,
      username: 'guard',
      password: 'pw',
      account: '000000',
    });

    const issued = await issue();

    expect(issued.token).toBe('keystone-token-1');
    expect(issued.expiresAtMs).toBe(Date.parse('2026-12-05T16:00:00Z'));
    expect(issued.catalog?.map((entry) => entry.type)).toEqual([
      'quota-manager',
      'resell',
    ]);
    expect(body).toEqual({
      auth: {
        identity: {
          methods: ['password'],
          password: {
            user: { name: 'guard', domain: { name: '000000' }, password: 'pw' },
          },
        },
        scope: { domain: { name: '000000' } },
      },
    });
  });
});

describe('TokenCache', () => {
  function counter(lifetimeMs?: number, now: () => number = () => 0) {
    let issued = 0;
    return {
      issuedCount: () => issued,
      issuer: async () => {
        issued++;
        await new Promise((resolve) => setTimeout(resolve, 5));
        return {
          token: `token-${issued}`,
          expiresAtMs:
            lifetimeMs === undefined ? undefined : now() + lifetimeMs,
        };
      },
    };
  }

  it('issues one token for 20 concurrent first calls', async () => {
    const source = counter();
    const cache = new TokenCache(source.issuer);

    const tokens = await Promise.all(
      Array.from({ length: 20 }, () => cache.get()),
    );

    expect(new Set(tokens)).toEqual(new Set(['token-1']));
    expect(source.issuedCount()).toBe(1);
  });

  it('reissues once when many callers report the same stale token', async () => {
    const source = counter();
    const cache = new TokenCache(source.issuer);
    const stale = await cache.get();

    for (let index = 0; index < 10; index++) cache.invalidate(stale);
    const fresh = await Promise.all(
      Array.from({ length: 10 }, () => cache.get()),
    );
    cache.invalidate(stale);

    expect(new Set(fresh)).toEqual(new Set(['token-2']));
    expect(await cache.get()).toBe('token-2');
    expect(source.issuedCount()).toBe(2);
  });

  it('refreshes before the expiry, inside the margin', async () => {
    let nowMs = 0;
    const source = counter(60 * 60_000, () => nowMs);
    const cache = new TokenCache(source.issuer, {
      now: () => nowMs,
      refreshMarginMs: 5 * 60_000,
    });

    const first = await cache.get();
    nowMs = 54 * 60_000;
    const stillFirst = await cache.get();
    nowMs = 56 * 60_000;
    const second = await cache.get();

    expect(first).toBe('token-1');
    expect(stillFirst).toBe('token-1');
    expect(second).toBe('token-2');
  });

  it('assumes a lifetime for tokens issued without expiry', async () => {
    let nowMs = 0;
    const source = counter(undefined);
    const cache = new TokenCache(source.issuer, {
      now: () => nowMs,
      assumedLifetimeMs: 24 * 3_600_000,
      refreshMarginMs: 3_600_000,
    });

    await cache.get();
    nowMs = 22 * 3_600_000;
    await cache.get();
    nowMs = 23 * 3_600_000 + 1;
    const token = await cache.get();

    expect(token).toBe('token-2');
    expect(cache.issued).toBe(2);
  });

  it('keeps a token that has not expired when its refresh fails', async () => {
    let nowMs = 0;
    let fail = false;
    const cache = new TokenCache(
      async () => {
        if (fail) throw new Error('identity down');
        return { token: 'token-1', expiresAtMs: nowMs + 60 * 60_000 };
      },
      { now: () => nowMs, refreshMarginMs: 10 * 60_000 },
    );
    await cache.get();
    fail = true;

    nowMs = 55 * 60_000;
    const kept = await cache.get();
    nowMs = 61 * 60_000;
    const expired = cache.get();

    expect(kept).toBe('token-1');
    await expect(expired).rejects.toThrow('identity down');
  });
});
