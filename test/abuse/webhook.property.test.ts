import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  handleWebhook,
  type WebhookDeps,
  type WebhookInput,
  type WebhookResponse,
} from '../../lib/webhook/handler.js';
import { MAX_BODY_BYTES } from '../../lib/webhook/request.js';
import {
  computeSignature,
  SIGNATURE_TOLERANCE_SECONDS,
  signatureHeader,
} from '../../lib/webhook/signature.js';
import { hourly, startGuard } from '../helpers/guard.js';
import { recordingLog } from '../helpers/mock-http.js';

const SECRET = 'property-webhook-secret';
const NOW_MS = Date.parse('2026-12-10T12:00:00Z');
const NOW_S = NOW_MS / 1000;
const HEADER = 'X-Budget-Guard-Signature';

type Guard = Awaited<ReturnType<typeof startGuard>>;

/** The raw bytes the handler reads from an input, as it decodes them. */
function rawBytes(body: string, base64: boolean): Buffer {
  return base64 ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
}

/** Collects every string of a parsed JSON value, keys included. */
function stringsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsOf);
  if (value && typeof value === 'object')
    return Object.entries(value).flatMap(([key, item]) => [
      key,
      ...stringsOf(item),
    ]);

  return [];
}

// Linear-time patterns only: the inputs they are tested on reach 64 KB.
const INTERNAL_PATTERNS: [string, RegExp][] = [
  ['stack frame', /^\s+at\s/m],
  ['stack frame position', /:\d+:\d+\)/],
  ['source location', /\.(?:ts|js|mjs|cjs):\d+/],
  ['file URL', /file:\/\//],
  ['module folder', /node_modules/],
];

/**
 * Asserts that a response is JSON and shows no stack trace, file path or
 * secret. A pattern the request itself carried may be echoed back, as in a
 * "project not found" message, so only new occurrences count.
 */
function expectNoInternals(response: WebhookResponse, input: string): void {
  const text = stringsOf(JSON.parse(response.body)).join('\n');

  expect(response.headers['content-type']).toBe('application/json');
  expect(response.body).not.toContain(SECRET);
  if (!input.includes(process.cwd())) expect(text).not.toContain(process.cwd());
  for (const [name, pattern] of INTERNAL_PATTERNS) {
    if (pattern.test(input)) continue;
    expect(text, name).not.toMatch(pattern);
  }
}

// ---- generators

/** A body as API Gateway hands it over: text, JSON, huge, unicode, or none. */
const anyBody: fc.Arbitrary<string | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 200 }),
  fc.jsonValue().map((value) => JSON.stringify(value) ?? 'null'),
  fc
    .dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 }))
    .map((value) => JSON.stringify(value)),
  fc
    .record({
      action: fc.constantFrom('cut', 'restore', 'status', 'delete'),
      project: fc.constantFrom('sandbox', 'prod', ''),
    })
    .map((value) => JSON.stringify(value)),
  fc
    .tuple(
      fc.integer({ min: MAX_BODY_BYTES - 8, max: 2 * MAX_BODY_BYTES }),
      fc.constantFrom('a', 'я', '🙂', '{'),
    )
    .map(([length, unit]) => unit.repeat(Math.ceil(length / unit.length))),
);

const hex64 = fc
  .uint8Array({ minLength: 32, maxLength: 32 })
  .map((bytes) => Buffer.from(bytes).toString('hex'));

/** Builds a header that is never a valid signature of `raw` at `NOW_S`. */
type BadHeader = (raw: Buffer) => string | undefined;

const badHeader: fc.Arbitrary<{ kind: string; make: BadHeader }> = fc.oneof(
  fc.constant({ kind: 'missing', make: () => undefined }),
  fc.string({ maxLength: 300 }).map((text) => ({
    kind: 'random string',
    make: () => text,
  })),
  fc
    .tuple(
      fc.integer({
        min: NOW_S - SIGNATURE_TOLERANCE_SECONDS,
        max: NOW_S + SIGNATURE_TOLERANCE_SECONDS,
      }),
      hex64,
    )
    .map(([time, digest]) => ({
      kind: 'wrong digest',
      make: () => `t=${time},v1=${digest}`,
    })),
  fc.string({ minLength: 1 }).map((other) => ({
    kind: 'digest over another body',
    make: (raw: Buffer) => {
      const otherBody = Buffer.concat([raw, Buffer.from(other)]);
      return signatureHeader(SECRET, NOW_S, otherBody);
    },
  })),
  fc
    .tuple(
      fc.integer({ min: SIGNATURE_TOLERANCE_SECONDS + 1, max: 10 ** 9 }),
      fc.boolean(),
    )
    .map(([offset, past]) => ({
      kind: 'time outside the window',
      make: (raw: Buffer) =>
        signatureHeader(SECRET, past ? NOW_S - offset : NOW_S + offset, raw),
    })),
  fc.string({ minLength: 1, maxLength: 40 }).map((secret) => ({
    kind: 'other secret',
    make: (raw: Buffer) => signatureHeader(`${SECRET}${secret}`, NOW_S, raw),
  })),
  fc.tuple(hex64, fc.string({ maxLength: 20 })).map(([digest, junk]) => ({
    kind: 'malformed time',
    make: () => `t=${NOW_S}${junk}x,v1=${digest}`,
  })),
);

const VALID_REQUEST = { action: 'status', project: 'sandbox' };

/** A request body that fails validation, and the field it gets wrong. */
const invalidBody: fc.Arbitrary<{ body: string; field: string | null }> =
  fc.oneof(
    fc
      .string({ minLength: 1 })
      .filter((text) => !parsesAsJson(text))
      .map((body) => ({ body, field: null })),
    fc
      .oneof(
        fc.integer(),
        fc.boolean(),
        fc.constant(null),
        fc.string(),
        fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }),
      )
      .map((value) => ({ body: JSON.stringify(value), field: null })),
    fc.integer({ min: 1, max: 7_000 }).map((depth) => ({
      body: '['.repeat(depth) + ']'.repeat(depth),
      field: null,
    })),
    fc
      .tuple(
        fc.constantFrom(
          'action',
          'project',
          'mode',
          'dryRun',
          'requestId',
          'reason',
        ),
        fc.oneof(
          fc.integer(),
          fc.constant(null),
          fc.array(fc.string(), { maxLength: 2 }),
          fc.dictionary(fc.string({ maxLength: 5 }), fc.integer()),
        ),
      )
      .map(([field, value]) => ({
        body: JSON.stringify({ ...VALID_REQUEST, [field]: value }),
        field,
      })),
    fc
      .string()
      .filter((action) => !['cut', 'restore', 'status'].includes(action))
      .map((action) => ({
        body: JSON.stringify({ ...VALID_REQUEST, action }),
        field: 'action',
      })),
    fc
      .string()
      .filter((mode) => !['freeze', 'zero'].includes(mode))
      .map((mode) => ({
        body: JSON.stringify({ ...VALID_REQUEST, mode }),
        field: 'mode',
      })),
    fc
      .oneof(fc.constant(''), fc.string({ minLength: 129, maxLength: 300 }))
      .map((project) => ({
        body: JSON.stringify({ ...VALID_REQUEST, project }),
        field: 'project',
      })),
    fc
      .oneof(
        fc.constant(''),
        fc.string({ minLength: 129, maxLength: 200 }),
        fc
          .string({ minLength: 1, maxLength: 20 })
          .filter((id) => !/^[A-Za-z0-9._:-]+$/.test(id)),
      )
      .map((requestId) => ({
        body: JSON.stringify({ ...VALID_REQUEST, requestId }),
        field: 'requestId',
      })),
    fc.string({ minLength: 501, maxLength: 800 }).map((reason) => ({
      body: JSON.stringify({ ...VALID_REQUEST, reason }),
      field: 'reason',
    })),
    fc
      .tuple(
        fc.oneof(
          fc.constantFrom('__proto__', 'constructor', 'force', 'Action'),
          fc.string({ minLength: 1, maxLength: 12 }),
        ),
        fc.jsonValue({ maxDepth: 1 }),
      )
      .filter(([key]) => !(key in VALID_REQUEST) && !OPTIONAL.includes(key))
      .map(([key, value]) => ({
        // Written as text so that `__proto__` stays an own key.
        body: `${JSON.stringify(VALID_REQUEST).slice(0, -1)},${JSON.stringify(key)}:${JSON.stringify(value ?? null)}}`,
        field: null,
      })),
    fc.constantFrom('action', 'project').map((missing) => ({
      body: JSON.stringify(
        Object.fromEntries(
          Object.entries(VALID_REQUEST).filter(([key]) => key !== missing),
        ),
      ),
      field: missing,
    })),
  );
const OPTIONAL = ['mode', 'dryRun', 'requestId', 'reason'];

function parsesAsJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

// ---- the properties

describe('handleWebhook under arbitrary input', () => {
  let guard: Guard;
  let deps: WebhookDeps;
  let log: ReturnType<typeof recordingLog>;
  let signedAt = NOW_S - SIGNATURE_TOLERANCE_SECONDS;

  beforeAll(async () => {
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
  });

  afterAll(async () => {
    await guard.close();
  });

  beforeEach(() => {
    log = recordingLog();
    deps = {
      secrets: async () => [SECRET],
      store: guard.store,
      execute: (request) => guard.actions.execute(request),
      log,
      nowMs: NOW_MS,
      invocationId: 'invocation-property',
    };
  });

  /** Signs `raw` validly, one second later each time, so no run is a replay. */
  function validHeader(raw: Buffer): string {
    signedAt++;
    if (signedAt > NOW_S + SIGNATURE_TOLERANCE_SECONDS)
      signedAt = NOW_S - SIGNATURE_TOLERANCE_SECONDS;
    return signatureHeader(SECRET, signedAt, raw);
  }

  it('rejects bad signatures before Selectel', async () => {
    await fc.assert(
      fc.asyncProperty(
        anyBody,
        badHeader,
        fc.boolean(),
        fc.constantFrom(HEADER, HEADER.toLowerCase(), HEADER.toUpperCase()),
        async (body, header, base64, name) => {
          guard.sim.clearRequests();
          const raw = rawBytes(body ?? '', base64);
          const value = header.make(raw);
          const input: WebhookInput = {
            headers: value === undefined ? {} : { [name]: value },
            body,
            isBase64Encoded: base64,
          };

          const response = await handleWebhook(input, deps);

          expect(response.statusCode).toBeGreaterThanOrEqual(400);
          expect(response.statusCode).toBeLessThan(500);
          expect(guard.sim.requests).toEqual([]);
          expectNoInternals(response, `${body ?? ''}\n${value ?? ''}`);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('enforces the 300 s time window', async () => {
    let attempt = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({
          min: -2 * SIGNATURE_TOLERANCE_SECONDS,
          max: 2 * SIGNATURE_TOLERANCE_SECONDS,
        }),
        async (offset) => {
          guard.sim.clearRequests();
          // An invalid body, new on every run so that no signature is a
          // replay: a signature that passes gets a 400 instead of a 401.
          attempt++;
          const body = `{"action":"cut","offset":${offset},"attempt":${attempt}}`;
          const response = await handleWebhook(
            {
              headers: {
                [HEADER]: signatureHeader(SECRET, NOW_S + offset, body),
              },
              body,
            },
            deps,
          );
          const inWindow = Math.abs(offset) <= SIGNATURE_TOLERANCE_SECONDS;

          expect(response.statusCode).toBe(inWindow ? 400 : 401);
          expect(guard.sim.requests).toEqual([]);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('rejects invalid signed bodies before Selectel', async () => {
    await fc.assert(
      fc.asyncProperty(invalidBody, fc.boolean(), async (invalid, base64) => {
        guard.sim.clearRequests();
        const raw = Buffer.from(invalid.body, 'utf8');
        const body = base64 ? raw.toString('base64') : invalid.body;

        const response = await handleWebhook(
          {
            headers: { [HEADER]: validHeader(raw) },
            body,
            isBase64Encoded: base64,
          },
          deps,
        );
        const error = String(JSON.parse(response.body).error);

        expect([400, 413]).toContain(response.statusCode);
        expect(guard.sim.requests).toEqual([]);
        if (invalid.field && response.statusCode === 400)
          expect(error).toContain(invalid.field);
        expectNoInternals(response, invalid.body);
      }),
      { numRuns: 300 },
    );
  });

  it('answers valid requests without a 5xx', async () => {
    const validRequest = fc.record(
      {
        action: fc.constantFrom('cut', 'restore', 'status'),
        project: fc.oneof(
          fc.constantFrom('sandbox', 'prod'),
          fc.constant(() => guard.projectId('sandbox')).map((id) => id()),
          fc.stringMatching(/^[a-z]{1,12}$/),
        ),
        mode: fc.constantFrom('freeze', 'zero'),
        dryRun: fc.boolean(),
        requestId: fc.stringMatching(/^[A-Za-z0-9._:-]{1,40}$/),
        reason: fc.string({ unit: 'grapheme', maxLength: 100 }),
      },
      { requiredKeys: ['action', 'project'] },
    );

    await fc.assert(
      fc.asyncProperty(validRequest, async (request) => {
        const body = JSON.stringify(request);

        const response = await handleWebhook(
          {
            headers: { [HEADER]: validHeader(Buffer.from(body)) },
            body,
          },
          deps,
        );

        expect([200, 403, 404, 409]).toContain(response.statusCode);
        if (request.project === 'prod' && request.action === 'cut')
          expect(
            response.statusCode === 403 || response.statusCode === 409,
          ).toBe(true);
        expectNoInternals(response, body);
      }),
      { numRuns: 60 },
    );
    expect(log.lines.join('\n')).not.toContain(SECRET);
  });

  it('keeps the secret out of the log', async () => {
    const body = '{"action":"status","project":"sandbox"}';

    await handleWebhook(
      {
        headers: {
          [HEADER]: `t=${NOW_S},v1=${computeSignature('wrong', NOW_S, body)}`,
        },
        body,
      },
      deps,
    );

    expect(log.lines.length).toBeGreaterThan(0);
    expect(log.lines.join('\n')).not.toContain(SECRET);
  });
});
