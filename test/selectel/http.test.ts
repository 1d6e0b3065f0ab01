import { afterEach, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { SelectelError } from '../../lib/selectel/errors.js';
import {
  buildUrl,
  parseRetryAfter,
  SelectelHttp,
  type TokenSource,
} from '../../lib/selectel/http.js';
import { mockHttp } from '../helpers/mock-http.js';

const ORIGIN = 'https://api.selectel.ru';
const BASE = `${ORIGIN}/vpc/resell/v2`;
const Ok = z.looseObject({ ok: z.boolean() });

function tokens(...values: string[]): TokenSource & { invalidated: string[] } {
  let index = 0;
  const invalidated: string[] = [];
  return {
    invalidated,
    async get() {
      return values[Math.min(index, values.length - 1)] as string;
    },
    invalidate(token) {
      invalidated.push(token);
      index++;
    },
  };
}

async function failure(promise: Promise<unknown>): Promise<SelectelError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SelectelError) return error;
    throw error;
  }
  throw new Error('expected the request to fail');
}

describe('SelectelHttp', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
  });

  function setup(options?: Parameters<typeof mockHttp>[0]) {
    const mock = mockHttp(options);
    close = () => mock.agent.close();
    return { ...mock, pool: mock.agent.get(ORIGIN) };
  }

  it('retries 502, 503 and 504 with jittered exponential backoff', async () => {
    const { http, pool, sleeps } = setup();
    pool.intercept({ path: '/vpc/resell/v2/projects' }).reply(502, '');
    pool.intercept({ path: '/vpc/resell/v2/projects' }).reply(503, '');
    pool.intercept({ path: '/vpc/resell/v2/projects' }).reply(504, '');
    pool
      .intercept({ path: '/vpc/resell/v2/projects' })
      .reply(200, { ok: true });

    const result = await http.send({
      baseUrl: BASE,
      method: 'GET',
      path: '/projects',
      schema: Ok,
    });

    expect(result.data.ok).toBe(true);
    // random() = 0.5: half of each ceiling fixed plus a quarter of it.
    expect(sleeps).toEqual([150, 300, 600]);
  });

  it('waits the Retry-After seconds of a 429', async () => {
    const { http, pool, sleeps } = setup();
    pool
      .intercept({ path: '/vpc/resell/v2/projects' })
      .reply(
        429,
        { error: 'too_many_requests' },
        { headers: { 'retry-after': '2' } },
      );
    pool
      .intercept({ path: '/vpc/resell/v2/projects' })
      .reply(200, { ok: true });

    await http.send({
      baseUrl: BASE,
      method: 'GET',
      path: '/projects',
      schema: Ok,
    });

    expect(sleeps).toEqual([2000]);
  });

  it('never retries a 400 or a 404', async () => {
    const { http, pool, sleeps } = setup();
    pool
      .intercept({ path: '/vpc/resell/v2/quotas/projects/p1', method: 'PATCH' })
      .reply(400, { error: 'cant_set_quota', value: 1, used: 3 });

    const error = await failure(
      http.send({
        baseUrl: BASE,
        method: 'PATCH',
        path: '/quotas/projects/p1',
        body: {},
        schema: Ok,
      }),
    );

    expect(error.code).toBe('bad_request');
    expect(error.status).toBe(400);
    expect(error.method).toBe('PATCH');
    expect(error.path).toBe('/quotas/projects/p1');
    expect(error).toMatchObject({ upstreamCode: 'cant_set_quota' });
    expect(sleeps).toEqual([]);
  });

  it('gives up after the last attempt with the attempt count', async () => {
    const { http, pool, sleeps } = setup();
    pool.intercept({ path: '/vpc/resell/v2/projects' }).reply(503, '').times(5);

    const error = await failure(
      http.send({
        baseUrl: BASE,
        method: 'GET',
        path: '/projects',
        schema: Ok,
      }),
    );

    expect(error.code).toBe('server_error');
    expect(error.attempts).toBe(5);
    expect(sleeps).toHaveLength(4);
  });

  it('stops retrying when the total time budget would be passed', async () => {
    const { http, pool, sleeps } = setup({ now: () => 0 });
    pool
      .intercept({ path: '/vpc/resell/v2/projects' })
      .reply(429, '', { headers: { 'retry-after': '120' } });

    const error = await failure(
      http.send({
        baseUrl: BASE,
        method: 'GET',
        path: '/projects',
        schema: Ok,
      }),
    );

    expect(error.code).toBe('rate_limited');
    expect(sleeps).toEqual([]);
  });

  it('retries network failures and reports them as network_error', async () => {
    const { http, pool, sleeps } = setup();
    pool
      .intercept({ path: '/vpc/resell/v2/projects' })
      .replyWithError(new Error('socket hang up'))
      .times(5);

    const error = await failure(
      http.send({
        baseUrl: BASE,
        method: 'GET',
        path: '/projects',
        schema: Ok,
      }),
    );

    expect(error.code).toBe('network_error');
    expect(sleeps).toHaveLength(4);
  });

  it('times out a slow answer with code timeout', async () => {
    const agentHttp = mockHttp();
    close = () => agentHttp.agent.close();
    const http = new SelectelHttp({
      dispatcher: agentHttp.agent,
      timeoutMs: 50,
      retry: { maxAttempts: 1 },
    });
    agentHttp.agent
      .get(ORIGIN)
      .intercept({ path: '/vpc/resell/v2/projects' })
      .reply(200, { ok: true })
      .delay(500);

    const error = await failure(
      http.send({
        baseUrl: BASE,
        method: 'GET',
        path: '/projects',
        schema: Ok,
      }),
    );

    expect(error.code).toBe('timeout');
  });

  it('refreshes the token once on a 401 and retries', async () => {
    const { http, pool } = setup();
    const source = tokens('old-token', 'new-token');
    pool
      .intercept({
        path: '/vpc/resell/v2/projects',
        headers: { 'x-auth-token': 'old-token' },
      })
      .reply(401, { error: 'unauthorized' });
    pool
      .intercept({
        path: '/vpc/resell/v2/projects',
        headers: { 'x-auth-token': 'new-token' },
      })
      .reply(200, { ok: true });

    const result = await http.send({
      baseUrl: BASE,
      method: 'GET',
      path: '/projects',
      schema: Ok,
      auth: source,
    });

    expect(result.data.ok).toBe(true);
    expect(source.invalidated).toEqual(['old-token']);
  });

  it('fails with unauthorized on a second 401', async () => {
    const { http, pool } = setup();
    const source = tokens('old-token', 'new-token');
    pool
      .intercept({ path: '/vpc/resell/v2/projects' })
      .reply(401, { error: 'unauthorized' })
      .times(2);

    const error = await failure(
      http.send({
        baseUrl: BASE,
        method: 'GET',
        path: '/projects',
        schema: Ok,
        auth: source,
      }),
    );

    expect(error.code).toBe('unauthorized');
    expect(source.invalidated).toEqual(['old-token']);
  });

  it('rejects a body of the wrong shape with the failing field', async () => {
    const { http, pool } = setup();
    pool
      .intercept({ path: '/vpc/resell/v2/projects' })
      .reply(200, { ok: 'yes' });

    const error = await failure(
      http.send({
        baseUrl: BASE,
        method: 'GET',
        path: '/projects',
        schema: Ok,
      }),
    );

    expect(error.code).toBe('invalid_response');
    expect(error.message).toContain('ok:');
  });

  it('rejects a body that is not JSON', async () => {
    const { http, pool } = setup();
    pool.intercept({ path: '/vpc/resell/v2/projects' }).reply(200, '<html>');

    const error = await failure(
      http.send({
        baseUrl: BASE,
        method: 'GET',
        path: '/projects',
        schema: Ok,
      }),
    );

    expect(error.code).toBe('invalid_response');
  });

  it('keeps the token and the query out of errors', async () => {
    const { http, pool } = setup();
    const source = tokens('secret-token-value');
    pool
      .intercept({ path: (path) => path.startsWith('/vpc/resell/v2/projects') })
      .reply(404, { error: 'project_not_found', token: 'secret-token-value' });

    const error = await failure(
      http.send({
        baseUrl: BASE,
        method: 'GET',
        path: '/projects',
        query: { marker: 'secret-token-value' },
        schema: Ok,
        auth: source,
      }),
    );
    const text = `${error.message} ${JSON.stringify(error)} ${String(error.stack)}`;

    expect(text).not.toContain('secret-token-value');
    expect(error.code).toBe('not_found');
  });
});

describe('buildUrl', () => {
  it('percent-encodes the plus sign of a UTC offset', () => {
    const url = buildUrl({
      baseUrl: 'https://api.ru-3.selvpc.ru/metric/v1/',
      path: '/resource/generic/x/metric/m/measures',
      query: {
        start: '2021-01-31T21:00:00+00:00',
        granularity: 86400,
        skipped: undefined,
      },
    });

    expect(url).toBe(
      'https://api.ru-3.selvpc.ru/metric/v1/resource/generic/x/metric/m/measures?start=2021-01-31T21%3A00%3A00%2B00%3A00&granularity=86400',
    );
  });

  it('repeats a key for each value of an array', () => {
    const url = buildUrl({
      baseUrl: 'https://q',
      path: '/quotas',
      query: { resource: ['a', 'b'] },
    });

    expect(url).toBe('https://q/quotas?resource=a&resource=b');
  });
});

describe('parseRetryAfter', () => {
  it.each([
    ['2', 2],
    ['0', 0],
    ['7200', 3600],
    ['Fri, 04 Dec 2026 16:00:10 GMT', 10],
    ['soon', undefined],
    [undefined, undefined],
  ])('reads %s as %s seconds', (header, seconds) => {
    const nowMs = Date.parse('2026-12-04T16:00:00Z');

    expect(parseRetryAfter(header, nowMs)).toBe(seconds);
  });
});
