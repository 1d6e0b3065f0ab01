import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { type WebhookDeps, handleWebhook } from '../../lib/webhook/handler.js';
import { MAX_BODY_BYTES } from '../../lib/webhook/request.js';
import {
  computeSignature,
  signatureHeader,
  verifySignature,
} from '../../lib/webhook/signature.js';
import { hourly, startGuard } from '../helpers/guard.js';
import { recordingLog } from '../helpers/mock-http.js';

const SECRET = 'webhook-secret-value';
const NOW_MS = Date.parse('2026-12-10T12:00:00Z');
const NOW_S = NOW_MS / 1000;

function signed(body: string, timestamp = NOW_S, secret = SECRET) {
  return {
    headers: {
      'X-Budget-Guard-Signature': signatureHeader(secret, timestamp, body),
    },
    body,
  };
}

describe('handleWebhook', () => {
  let guard: Awaited<ReturnType<typeof startGuard>> | undefined;
  afterEach(async () => {
    await guard?.close();
    guard = undefined;
  });

  async function setup() {
    guard = await startGuard({
      scenario: {
        projects: [
          {
            name: 'sandbox',
            costs: { hourly: hourly(NOW_MS, 3, 100) },
            quotas: {
              'ru-1': {
                compute_cores: [{ zone: 'ru-1a', value: 10, used: 2 }],
              },
            },
          },
          {
            name: 'prod',
            quotas: {
              'ru-1': {
                compute_cores: [{ zone: 'ru-1a', value: 10, used: 2 }],
              },
            },
          },
        ],
      },
      budgets: { projects: { sandbox: {}, prod: { action: 'none' } } },
    });
    guard.sim.clearRequests();
    const log = recordingLog();
    const deps: WebhookDeps = {
      secrets: async () => [SECRET],
      store: guard.store,
      execute: (request) => guard!.actions.execute(request),
      log,
      nowMs: NOW_MS,
      invocationId: 'invocation-1',
    };
    return { guard, deps, log };
  }

  it('answers a signed status request', async () => {
    const { deps } = await setup();

    const response = await handleWebhook(
      signed('{"action":"status","project":"sandbox"}'),
      deps,
    );
    const body = JSON.parse(response.body);

    expect(response.statusCode).toBe(200);
    expect(body.status).toBe('done');
    expect(body.project.name).toBe('sandbox');
    expect(body.current).toContainEqual({
      region: 'ru-1',
      zone: 'ru-1a',
      resource: 'compute_cores',
      value: 10,
      used: 2,
    });
  });

  it('cuts through a signed request', async () => {
    const { deps, guard } = await setup();

    const response = await handleWebhook(
      signed('{"action":"cut","project":"sandbox","requestId":"w-1"}'),
      deps,
    );

    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({
      status: 'done',
      requestId: 'w-1',
    });
    expect(
      guard.sim.quotaValues(guard.projectId('sandbox'))[
        'ru-1/ru-1a/compute_cores'
      ]?.value,
    ).toBe(2);
  });

  it('refuses to cut a protected project', async () => {
    const { deps, guard } = await setup();

    const response = await handleWebhook(
      signed('{"action":"cut","project":"prod","mode":"zero"}'),
      deps,
    );

    expect(response.statusCode).toBe(403);
    expect(JSON.parse(response.body).status).toBe('refused');
    expect(guard.sim.requestsTo('quota.patch')).toEqual([]);
    expect(guard.sim.requestsTo('quota.get')).toEqual([]);
  });

  const rejected: [
    string,
    () => { headers: Record<string, string>; body: string },
    number,
    RegExp,
  ][] = [
    [
      'missing signature',
      () => ({ headers: {}, body: '{"action":"cut","project":"sandbox"}' }),
      401,
      /missing/,
    ],
    [
      'malformed signature',
      () => ({
        headers: { 'x-budget-guard-signature': 'sha256=abc' },
        body: '{}',
      }),
      401,
      /malformed/,
    ],
    [
      'non-hex signature',
      () => ({
        headers: {
          'x-budget-guard-signature': `t=${NOW_S},v1=${'z'.repeat(64)}`,
        },
        body: '{}',
      }),
      401,
      /malformed/,
    ],
    [
      'wrong secret',
      () =>
        signed('{"action":"cut","project":"sandbox"}', NOW_S, 'other-secret'),
      401,
      /invalid signature/,
    ],
    [
      'tampered body',
      () => ({
        headers: signed('{"action":"status","project":"sandbox"}').headers,
        body: '{"action":"cut","project":"sandbox"}',
      }),
      401,
      /invalid signature/,
    ],
    [
      'stale time',
      () => signed('{"action":"cut","project":"sandbox"}', NOW_S - 301),
      401,
      /300 s/,
    ],
    [
      'future time',
      () => signed('{"action":"cut","project":"sandbox"}', NOW_S + 301),
      401,
      /300 s/,
    ],
    [
      'oversized body',
      () =>
        signed(
          JSON.stringify({
            action: 'cut',
            project: 'sandbox',
            reason: 'x'.repeat(MAX_BODY_BYTES),
          }),
        ),
      413,
      /too large/,
    ],
    ['empty body', () => signed(''), 400, /empty body/],
    ['invalid JSON', () => signed('{"action":'), 400, /invalid JSON/],
    [
      'unknown field',
      () => signed('{"action":"cut","project":"sandbox","force":true}'),
      400,
      /Unrecognized key/,
    ],
    [
      'unknown action',
      () => signed('{"action":"delete","project":"sandbox"}'),
      400,
      /action/,
    ],
    ['missing project', () => signed('{"action":"cut"}'), 400, /project/],
    ['array body', () => signed('[1,2]'), 400, /invalid request/],
  ];

  it.each(rejected)(
    'rejects %s with no Selectel call',
    async (_name, make, status, message) => {
      const { deps, guard } = await setup();

      const response = await handleWebhook(make(), deps);

      expect(response.statusCode).toBe(status);
      expect(JSON.parse(response.body).error).toMatch(message);
      expect(guard.sim.requests).toEqual([]);
    },
  );

  it('rejects a replayed signature', async () => {
    const { deps, guard } = await setup();
    const request = signed('{"action":"cut","project":"sandbox"}');

    const first = await handleWebhook(request, deps);
    const callsAfterFirst = guard.sim.requests.length;
    const replay = await handleWebhook(request, deps);

    expect(first.statusCode).toBe(200);
    expect(replay.statusCode).toBe(409);
    expect(JSON.parse(replay.body).error).toMatch(/request already received/);
    expect(guard.sim.requests).toHaveLength(callsAfterFirst);
  });

  it('answers 404 for an unknown project', async () => {
    const { deps } = await setup();

    const response = await handleWebhook(
      signed('{"action":"status","project":"nope"}'),
      deps,
    );

    expect(response.statusCode).toBe(404);
    expect(JSON.parse(response.body).error).toMatch(/not found/);
  });

  it('hides internals of an unexpected failure', async () => {
    const { deps, log } = await setup();
    const failing: WebhookDeps = {
      ...deps,
      execute: async () => {
        throw new Error(
          'boom at /work/main/lib/secret-path.ts:42 with token abc',
        );
      },
    };

    const response = await handleWebhook(
      signed('{"action":"status","project":"sandbox"}'),
      failing,
    );

    expect(response.statusCode).toBe(500);
    expect(JSON.parse(response.body)).toEqual({
      error: 'internal error',
      invocationId: 'invocation-1',
    });
    expect(
      log.lines.some((line) => line.includes('webhook request failed')),
    ).toBe(true);
  });

  it('accepts base64 bodies from API Gateway', async () => {
    const { deps } = await setup();
    const body = '{"action":"status","project":"sandbox"}';
    const { headers } = signed(body);

    const response = await handleWebhook(
      {
        headers,
        body: Buffer.from(body).toString('base64'),
        isBase64Encoded: true,
      },
      deps,
    );

    expect(response.statusCode).toBe(200);
  });
});

describe('verifySignature', () => {
  it('accepts any of several secrets during a rotation', () => {
    const body = '{"a":1}';

    const check = verifySignature({
      header: signatureHeader('new', NOW_S, body),
      rawBody: body,
      secrets: ['old', 'new'],
      nowSeconds: NOW_S,
    });

    expect(check.ok).toBe(true);
  });

  it('signs "<time>.<body>" with HMAC-SHA256', () => {
    // echo -n '1796904000.{"a":1}' | openssl dgst -sha256 -hmac key
    const digest = computeSignature('key', 1796904000, '{"a":1}');

    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    expect(digest).toBe(
      createHmac('sha256', 'key').update('1796904000.{"a":1}').digest('hex'),
    );
  });

  it.each([
    ['t=1,v1=', 'malformed'],
    [`t=${NOW_S},t=${NOW_S},v1=${'a'.repeat(64)}`, 'malformed'],
    [`v1=${'a'.repeat(64)}`, 'malformed'],
    [`t=${NOW_S}`, 'malformed'],
    [`t=-5,v1=${'a'.repeat(64)}`, 'malformed'],
    [`t=${NOW_S},v1=${'a'.repeat(64)}`, 'mismatch'],
  ])('reads %s as %s', (header, reason) => {
    const check = verifySignature({
      header,
      rawBody: '{}',
      secrets: ['s'],
      nowSeconds: NOW_S,
    });

    expect(check).toEqual({ ok: false, reason });
  });
});
