import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import type { Context, SNSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { signatureHeader } from '../../lib/webhook/signature.js';
import { SelectelSimulator } from '../../sim/server.js';
import { startDynalite } from '../helpers/dynamo.js';
import { SnsStandIn } from '../helpers/sns-standin.js';
import { SsmStandIn } from '../helpers/ssm-standin.js';

const TOPIC = 'arn:aws:sns:eu-central-1:123456789012:budget-guard-alerts';
const WEBHOOK_SECRET = 'function-test-webhook-secret';

type CheckModule = typeof import('../../functions/check-budgets.js');
type QuotaModule = typeof import('../../functions/quota-action.js');

function context(name: string, id: string): Context {
  return {
    awsRequestId: id,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:eu-central-1:123456789012:function:${name}`,
    memoryLimitInMB: '256',
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: 'stream',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => 60_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

describe('Lambda handlers', () => {
  let sim: SelectelSimulator;
  let dynamo: Awaited<ReturnType<typeof startDynalite>>;
  let sns: SnsStandIn;
  let ssm: SsmStandIn;
  let folder: string;
  let check: CheckModule;
  let quota: QuotaModule;
  const saved = { ...process.env };
  const output: string[] = [];

  beforeAll(async () => {
    sim = await SelectelSimulator.start({
      projects: [
        {
          name: 'hungry',
          costs: {
            generate: { from: 'now-30h', to: 'now', kopecksPerHour: 20_000 },
          },
          quotas: {
            'ru-1': { compute_cores: [{ zone: 'ru-1a', value: 40, used: 10 }] },
          },
        },
        {
          name: 'calm',
          costs: {
            generate: { from: 'now-30h', to: 'now', kopecksPerHour: 100 },
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
      '/budget-guard/webhook-secret': WEBHOOK_SECRET,
    });
    folder = await mkdtemp(join(tmpdir(), 'budget-guard-functions-'));
    const configPath = join(folder, 'budgets.json');
    await writeFile(
      configPath,
      JSON.stringify({
        account: sim.scenario.account,
        timezone: 'Europe/Moscow',
        endpoints: sim.endpoints,
        costs: { granularity: 3600 },
        budgets: {
          default: {
            daily: 1000,
            monthly: 20000,
            cutAt: 1.2,
            action: 'freeze',
          },
          projects: { hungry: {}, calm: {} },
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
      AWS_LAMBDA_FUNCTION_NAME: 'budget-guard-test',
      BUDGET_GUARD_CONFIG: configPath,
      ALERTS_TOPIC_ARN: TOPIC,
      STATE_TABLE: stateTable,
      IDEMPOTENCY_TABLE: idempotencyTable,
      SELECTEL_API_KEY_PARAM: '/budget-guard/selectel-api-key',
      WEBHOOK_SECRET_PARAM: '/budget-guard/webhook-secret',
    });
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      output.push(String(chunk));
      return true;
    });
    vi.resetModules();
    check = await import('../../functions/check-budgets.js');
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

  it('runs the check, publishes to SNS and stores marks in DynamoDB', async () => {
    const first = await check.handler({}, context('check', 'run-1'));
    const second = await check.handler({}, context('check', 'run-2'));
    const items = await dynamo.client.send(
      new ScanCommand({ TableName: 'state' }),
    );
    const events = sns.published.map(
      (message) => message.attributes.event?.value,
    );

    expect(first).toMatchObject({ projects: 2, cuts: 1, errors: 0 });
    expect(first.notifications).toBeGreaterThanOrEqual(1);
    expect(second).toMatchObject({ projects: 2, notifications: 0, errors: 0 });
    expect(events).toContain('budget.cut_requested');
    expect(
      sns.published.every(
        (message) =>
          message.topicArn === TOPIC && message.messageStructure === 'json',
      ),
    ).toBe(true);
    expect(
      items.Items?.some((item) => item.sk?.S?.startsWith('alert#day:')),
    ).toBe(true);
    expect(sim.requestsTo('quota.patch')).toEqual([]);
    expect(
      ssm.reads.filter(
        (read) => read.name === '/budget-guard/selectel-api-key',
      ),
    ).toEqual([
      { name: '/budget-guard/selectel-api-key', withDecryption: true },
    ]);
  });

  it('cuts on the SNS event of the check', async () => {
    const published = sns.published.find(
      (message) => message.attributes.event?.value === 'budget.cut_requested',
    );
    const lambdaMessage = (
      JSON.parse(published?.message ?? '{}') as { lambda: string }
    ).lambda;
    const event = {
      Records: [
        {
          EventSource: 'aws:sns',
          EventVersion: '1.0',
          EventSubscriptionArn: `${TOPIC}:sub`,
          Sns: {
            Type: 'Notification',
            MessageId: 'message-1',
            TopicArn: TOPIC,
            Subject: published?.subject ?? null,
            Message: lambdaMessage,
            Timestamp: new Date().toISOString(),
            SignatureVersion: '1',
            Signature: '',
            SigningCertUrl: '',
            UnsubscribeUrl: '',
            MessageAttributes: {
              event: { Type: 'String', Value: 'budget.cut_requested' },
            },
          },
        },
      ],
    } as SNSEvent;
    const hungry = [...sim.state.projects.values()].find(
      (project) => project.name === 'hungry',
    )!;

    const result = await quota.handler(event, context('quota', 'sns-1'));
    const again = await quota.handler(event, context('quota', 'sns-2'));

    expect(result).toEqual({ processed: 1 });
    expect(again).toEqual({ processed: 1 });
    expect(sim.quotaValues(hungry.id)['ru-1/ru-1a/compute_cores']?.value).toBe(
      10,
    );
    expect(sim.requestsTo('quota.patch')).toHaveLength(1);
    expect(
      sns.published.map((message) => message.attributes.event?.value),
    ).toContain('quota.cut');
  });

  function httpEvent(body: string, headers: Record<string, string>) {
    return {
      version: '2.0',
      routeKey: 'POST /quota-actions',
      rawPath: '/quota-actions',
      rawQueryString: '',
      headers,
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

  it('answers a signed webhook once per request id', async () => {
    const body =
      '{"action":"restore","project":"hungry","requestId":"restore-1"}';
    const now = Math.floor(Date.now() / 1000);
    const patchesBefore = sim.requestsTo('quota.patch').length;

    const first = await quota.handler(
      httpEvent(body, {
        'x-budget-guard-signature': signatureHeader(WEBHOOK_SECRET, now, body),
      }),
      context('quota', 'http-1'),
    );
    const repeat = await quota.handler(
      httpEvent(body, {
        'x-budget-guard-signature': signatureHeader(
          WEBHOOK_SECRET,
          now + 1,
          body,
        ),
      }),
      context('quota', 'http-2'),
    );

    expect(first).toMatchObject({ statusCode: 200 });
    expect(JSON.parse((first as { body: string }).body)).toMatchObject({
      status: 'done',
      requestId: 'restore-1',
    });
    expect((repeat as { body: string }).body).toBe(
      (first as { body: string }).body,
    );
    expect(sim.requestsTo('quota.patch').length - patchesBefore).toBe(1);
  });

  it('rejects an unsigned webhook before any Selectel call', async () => {
    const requestsBefore = sim.requests.length;

    const response = await quota.handler(
      httpEvent('{"action":"cut","project":"hungry"}', {}),
      context('quota', 'http-3'),
    );

    expect(response).toMatchObject({ statusCode: 401 });
    expect(sim.requests).toHaveLength(requestsBefore);
  });

  it('keeps secrets and tokens out of the logs', () => {
    const text = output.join('');

    expect(text).toContain('budget check finished');
    expect(text).toContain('quota action finished');
    expect(text).not.toContain('is a reserved key');
    for (const secret of [
      sim.scenario.apiKey,
      WEBHOOK_SECRET,
      ...sim.issuedTokens,
    ]) {
      expect(text).not.toContain(secret);
    }
  });
});
