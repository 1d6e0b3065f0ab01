import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { signatureHeader } from '../../lib/webhook/signature.js';
import { SelectelSimulator } from '../../sim/server.js';
import { startDynalite } from '../helpers/dynamo.js';
import { SnsStandIn } from '../helpers/sns-standin.js';
import { SsmStandIn } from '../helpers/ssm-standin.js';

const TOPIC = 'arn:aws:sns:eu-central-1:123456789012:budget-guard-alerts';
const SECRET = 'breaker-webhook-secret';

type QuotaModule = typeof import('../../functions/quota-action.js');

function context(id: string): Context {
  return {
    awsRequestId: id,
    functionName: 'quota',
    functionVersion: '$LATEST',
    invokedFunctionArn:
      'arn:aws:lambda:eu-central-1:123456789012:function:quota',
    memoryLimitInMB: '256',
    logGroupName: '/aws/lambda/quota',
    logStreamName: 'stream',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => 60_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

function httpEvent(body: string) {
  const now = Math.floor(Date.now() / 1000);
  return {
    version: '2.0',
    routeKey: 'POST /quota-actions',
    rawPath: '/quota-actions',
    rawQueryString: '',
    headers: { 'x-budget-guard-signature': signatureHeader(SECRET, now, body) },
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'example.invalid',
      domainPrefix: 'api',
      http: {
        method: 'POST',
        path: '/quota-actions',
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'test',
      },
      requestId: 'r',
      routeKey: 'POST /quota-actions',
      stage: '$default',
      time: '',
      timeEpoch: Date.now(),
    },
    body,
    isBase64Encoded: false,
  };
}

let sim: SelectelSimulator;
let dynamo: Awaited<ReturnType<typeof startDynalite>>;
let sns: SnsStandIn;
let ssm: SsmStandIn;
let folder: string;
let quota: QuotaModule;
const saved = { ...process.env };

beforeAll(async () => {
  sim = await SelectelSimulator.start({
    projects: [
      {
        name: 'sandbox',
        quotas: {
          'ru-1': { compute_cores: [{ zone: 'ru-1a', value: 40, used: 10 }] },
        },
      },
      {
        name: 'other',
        quotas: {
          'ru-1': { compute_cores: [{ zone: 'ru-1a', value: 40, used: 10 }] },
        },
      },
    ],
  });
  dynamo = await startDynalite();
  const stateTable = await dynamo.createTable('state');
  const idempotencyTable = await dynamo.createTable('idempotency', 'id');
  sns = await SnsStandIn.start();
  ssm = await SsmStandIn.start({
    '/budget-guard/selectel-api-key': sim.scenario.apiKey,
    '/budget-guard/webhook-secret': SECRET,
  });
  folder = await mkdtemp(join(tmpdir(), 'budget-guard-breaker-'));
  const configPath = join(folder, 'budgets.json');
  await writeFile(
    configPath,
    JSON.stringify({
      account: sim.scenario.account,
      endpoints: sim.endpoints,
      costs: { granularity: 3600 },
      budgets: {
        default: { daily: 1000, cutAt: 1.2, action: 'freeze' },
        projects: { sandbox: {}, other: {} },
      },
    }),
  );
  Object.assign(process.env, {
    AWS_REGION: 'eu-central-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_SNS: sns.endpoint,
    AWS_ENDPOINT_URL_SSM: ssm.endpoint,
    AWS_LAMBDA_FUNCTION_NAME: 'budget-guard-breaker',
    BUDGET_GUARD_CONFIG: configPath,
    ALERTS_TOPIC_ARN: TOPIC,
    STATE_TABLE: stateTable,
    IDEMPOTENCY_TABLE: idempotencyTable,
    SELECTEL_API_KEY_PARAM: '/budget-guard/selectel-api-key',
    WEBHOOK_SECRET_PARAM: '/budget-guard/webhook-secret',
  });
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  vi.resetModules();
  quota = await import('../../functions/quota-action.js');
});

afterAll(async () => {
  vi.restoreAllMocks();
  process.env = saved;
  await sim.close();
  await dynamo.close();
  await sns.close();
  await ssm.close();
  await rm(folder, { recursive: true, force: true });
});

const projectId = (name: string) =>
  [...sim.state.projects.values()].find((project) => project.name === name)!.id;

it('real cut after same-id dry run', async () => {
  const dryRun = await quota.handler(
    httpEvent(
      '{"action":"cut","project":"sandbox","dryRun":true,"requestId":"cut-sandbox-1"}',
    ),
    context('http-1'),
  );
  const real = await quota.handler(
    httpEvent(
      '{"action":"cut","project":"sandbox","requestId":"cut-sandbox-1"}',
    ),
    context('http-2'),
  );
  const body = JSON.parse((real as { body: string }).body) as {
    dryRun: boolean;
  };

  expect(dryRun).toMatchObject({ statusCode: 200 });
  expect(real).toMatchObject({ statusCode: 200 });
  // The core never stores dry runs; the function's idempotency layer does.
  expect(body.dryRun).toBe(false);
  expect(
    sim.quotaValues(projectId('sandbox'))['ru-1/ru-1a/compute_cores']?.value,
  ).toBe(10);
});

it('request id reuse across projects', async () => {
  const first = await quota.handler(
    httpEvent('{"action":"status","project":"sandbox","requestId":"shared-1"}'),
    context('http-3'),
  );
  const second = await quota.handler(
    httpEvent('{"action":"cut","project":"other","requestId":"shared-1"}'),
    context('http-4'),
  );

  expect(first).toMatchObject({ statusCode: 200 });
  // Either the cut of "other" runs, or the reuse is rejected; never the
  // stored answer about "sandbox".
  const body = JSON.parse((second as { body: string }).body) as {
    project?: { name: string };
  };
  expect(body.project?.name).not.toBe('sandbox');
});
