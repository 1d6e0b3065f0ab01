import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildOptions } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signatureHeader } from '../../lib/webhook/signature.js';
import { SelectelSimulator } from '../../sim/server.js';
import { startDynalite } from '../helpers/dynamo.js';
import { SnsStandIn } from '../helpers/sns-standin.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const WORK = join(REPO, '.test-output/bundle-run');
const require = createRequire(import.meta.url);
const { esbuildOptions, functionEntryPoints } =
  require('../../esbuild.config.cjs') as {
    esbuildOptions: BuildOptions;
    functionEntryPoints: Record<string, string>;
  };

/** Runs one handler of a built bundle in a fresh Node process and returns its result. */
function invoke(
  bundle: string,
  event: unknown,
  env: NodeJS.ProcessEnv,
): Promise<unknown> {
  const script = `
    const { handler } = require(${JSON.stringify(bundle)});
    const context = { awsRequestId: 'bundle-run', functionName: 'bundle-run', getRemainingTimeInMillis: () => 60000 };
    handler(${JSON.stringify(event)}, context).then(
      (result) => process.stdout.write('RESULT ' + JSON.stringify(result) + '\\n'),
      (error) => { process.stderr.write(String(error && error.stack || error)); process.exit(1); },
    );
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], {
      cwd: WORK,
      env: { PATH: process.env.PATH, ...env },
    });
    let output = '';
    let errors = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = output
        .split('\n')
        .find((text) => text.startsWith('RESULT '));
      if (code !== 0 || !line)
        reject(new Error(`bundle failed (${code}): ${errors}`));
      else resolve(JSON.parse(line.slice('RESULT '.length)));
    });
  });
}

describe('Lambda bundles', () => {
  const bundles: Record<string, string> = {};
  let sim: SelectelSimulator;
  let dynamo: Awaited<ReturnType<typeof startDynalite>>;
  let sns: SnsStandIn;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    rmSync(WORK, { recursive: true, force: true });
    mkdirSync(WORK, { recursive: true });
    const { build } = await import('esbuild');
    for (const [name, entry] of Object.entries(functionEntryPoints)) {
      await build({
        ...esbuildOptions,
        entryPoints: { [name]: join(REPO, entry) },
        outdir: WORK,
        absWorkingDir: REPO,
        logLevel: 'silent',
      });
      bundles[name] = join(WORK, `${name}.cjs`);
    }
    sim = await SelectelSimulator.start({
      projects: [
        {
          name: 'sandbox',
          costs: {
            generate: { from: 'now-30h', to: 'now', kopecksPerHour: 100 },
          },
        },
      ],
    });
    dynamo = await startDynalite();
    sns = await SnsStandIn.start();
    const config = join(WORK, 'budgets.json');
    writeFileSync(
      config,
      JSON.stringify({
        account: sim.scenario.account,
        endpoints: sim.endpoints,
        costs: { granularity: 3600 },
        budgets: { default: { daily: 1000, monthly: 20000 } },
      }),
    );
    env = {
      BUDGET_GUARD_CONFIG: config,
      SELECTEL_API_KEY: sim.scenario.apiKey,
      WEBHOOK_SECRET: 'bundle-secret',
      STATE_TABLE: await dynamo.createTable('state'),
      ALERTS_TOPIC_ARN: 'arn:aws:sns:eu-central-1:123456789012:alerts',
      AWS_REGION: 'eu-central-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_SNS: sns.endpoint,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
    };
  }, 120_000);

  afterAll(async () => {
    await sim?.close();
    await dynamo?.close();
    await sns?.close();
  });

  it.each(Object.keys(functionEntryPoints))(
    '%s bundle stays under 1 MB',
    (name) => {
      expect(statSync(bundles[name] as string).size).toBeLessThan(1_000_000);
    },
  );

  it('runs the check bundle against the simulator, DynamoDB and SNS', async () => {
    const result = await invoke(bundles.checkBudgets as string, {}, env);

    expect(result).toMatchObject({ projects: 1, errors: 0, error: null });
    expect(sim.requestsTo('resell.projects').length).toBeGreaterThan(0);
    expect(
      sns.published.map((message) => message.attributes.event?.value),
    ).toContain('budget.project_unlisted');
  });

  it('answers a signed webhook from the quota-action bundle', async () => {
    const body = '{"action":"status","project":"sandbox"}';
    const event = {
      version: '2.0',
      headers: {
        'x-budget-guard-signature': signatureHeader(
          'bundle-secret',
          Math.floor(Date.now() / 1000),
          body,
        ),
      },
      requestContext: { http: { method: 'POST', path: '/quota-actions' } },
      body,
      isBase64Encoded: false,
    };

    const result = (await invoke(
      bundles.quotaAction as string,
      event,
      env,
    )) as { statusCode: number; body: string };

    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body)).toMatchObject({
      action: 'status',
      status: 'done',
      project: { name: 'sandbox' },
    });
  });
});
