import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildOptions } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  checkFunctions,
  checkHttpRoute,
  checkIamGrants,
  checkIamWildcards,
  checkLogGroups,
  checkReferences,
  checkSchedule,
  checkSecretsKey,
  checkSnsSubscriptions,
  checkTables,
  checkTemplate,
  type Expected,
  type Template,
} from './template-checks.js';
import { readZip } from './zip.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const OSLS = join(REPO, 'node_modules/osls/bin/serverless.js');
/** Inside the repository, because the budgets file must be packaged from there. */
const WORK = join(REPO, '.test-output/deploy');
const PACKAGE_TIMEOUT_MS = 300_000;

const EXPECTED: Expected = {
  schedule: 'rate(1 hour)',
  alertEmails: ['ops@example.com', 'finance@example.com'],
  secretsKmsKeyArn:
    'arn:aws:kms:eu-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
};

const require = createRequire(import.meta.url);
const { esbuildOptions, functionEntryPoints } =
  require('../../esbuild.config.cjs') as {
    esbuildOptions: BuildOptions;
    functionEntryPoints: Record<string, string>;
  };
const { parseAlertEmails } =
  require('../../.serverless_plugins/budget-guard.cjs') as {
    parseAlertEmails(value: unknown): string[];
  };

interface Run {
  code: number | null;
  output: string;
  seconds: number;
}

/** Runs `serverless package` offline for the dev stage with extra options. */
function runPackage(args: string[]): Promise<Run> {
  const started = Date.now();

  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [OSLS, 'package', '--stage', 'dev', '--region', 'eu-central-1', ...args],
      {
        cwd: REPO,
        env: {
          ...process.env,
          SLS_TELEMETRY_DISABLED: '1',
          SLS_NOTIFICATIONS_MODE: 'off',
          // No credentials lookup may reach the EC2 metadata address.
          AWS_EC2_METADATA_DISABLED: 'true',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), PACKAGE_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output, seconds: (Date.now() - started) / 1000 });
    });
  });
}

/** Loads a bundle in a fresh Node process and prints the type of `handler`. */
function handlerType(bundle: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '-e',
        `process.stdout.write(typeof require(${JSON.stringify(bundle)}).handler)`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', () => resolve(output));
  });
}

describe('serverless package', () => {
  const packageDir = join(WORK, 'package');
  let template: Template;

  beforeAll(async () => {
    rmSync(packageDir, { recursive: true, force: true });
    mkdirSync(WORK, { recursive: true });
    const run = await runPackage([
      '--package',
      packageDir,
      `--param=alertEmails=${EXPECTED.alertEmails.join(',')}`,
      `--param=secretsKmsKeyArn=${EXPECTED.secretsKmsKeyArn}`,
    ]);
    if (run.code !== 0) {
      throw new Error(
        `serverless package failed (${run.code}):\n${run.output}`,
      );
    }
    console.info(`serverless package took ${run.seconds.toFixed(1)} s`);
    template = JSON.parse(
      readFileSync(
        join(packageDir, 'cloudformation-template-update-stack.json'),
        'utf8',
      ),
    ) as Template;
  }, PACKAGE_TIMEOUT_MS);

  it('template passes every check', () => {
    expect(checkTemplate(template, EXPECTED)).toEqual([]);
  });

  it('references name existing resources', () => {
    expect(checkReferences(template)).toEqual([]);
  });

  it('functions get names of secrets only', () => {
    expect(checkFunctions(template)).toEqual([]);
  });

  it('schedule runs the check hourly', () => {
    expect(checkSchedule(template, 'rate(1 hour)')).toEqual([]);
    expect(checkSchedule(template, 'rate(2 hours)')).toEqual([
      expect.stringContaining('expected rate(2 hours)'),
    ]);
  });

  it('route POST /quota-actions reaches quotaAction', () => {
    expect(checkHttpRoute(template)).toEqual([]);
  });

  it('topic has email and filtered lambda subscriptions', () => {
    expect(checkSnsSubscriptions(template, EXPECTED.alertEmails)).toEqual([]);
  });

  it('tables have keys, TTL and recovery', () => {
    expect(checkTables(template)).toEqual([]);
  });

  it('log groups keep logs for a set time', () => {
    expect(checkLogGroups(template)).toEqual([]);
  });

  it('IAM grants no wildcard resource', () => {
    expect(checkIamWildcards(template)).toEqual([]);
  });

  it('IAM grants what each function uses', () => {
    expect(checkIamGrants(template)).toEqual([]);
    expect(checkSecretsKey(template, EXPECTED.secretsKmsKeyArn)).toEqual([]);
  });

  it('handlers match the esbuild entry points', () => {
    for (const [name, entry] of Object.entries(functionEntryPoints)) {
      const id = `${name[0]?.toUpperCase()}${name.slice(1)}LambdaFunction`;
      expect(template.Resources[id]?.Properties?.Handler).toBe(
        entry.replace(/\.ts$/, '.handler'),
      );
    }
  });

  it.each(Object.entries(functionEntryPoints))(
    'zip of %s holds bundle, map and budgets',
    async (name, entry) => {
      const bundle = entry.replace(/\.ts$/, '.cjs');
      const entries = readZip(join(packageDir, `${name}.zip`));
      expect(entries.map((file) => file.name).sort()).toEqual(
        [
          'budgets.yml',
          '.budget-guard-build/budgets.json',
          bundle,
          `${bundle}.map`,
        ].sort(),
      );
      const budgets = entries.find((file) => file.name === 'budgets.yml');
      expect(budgets?.read().toString('utf8')).toBe(
        readFileSync(join(REPO, 'budgets.yml'), 'utf8'),
      );
      const json = entries.find(
        (file) => file.name === '.budget-guard-build/budgets.json',
      );
      const { loadConfig } = await import('../../lib/config/load.js');
      expect(JSON.parse(json?.read().toString('utf8') ?? '')).toEqual(
        await loadConfig(join(REPO, 'budgets.yml')),
      );
    },
  );

  it.each(Object.entries(functionEntryPoints))(
    'bundle of %s loads on this Node',
    async (name, entry) => {
      const bundle = entry.replace(/\.ts$/, '.cjs');
      const file = readZip(join(packageDir, `${name}.zip`)).find(
        (zipEntry) => zipEntry.name === bundle,
      );
      expect(file).toBeDefined();
      const extracted = join(WORK, `${name}.cjs`);
      writeFileSync(extracted, file?.read() ?? '');
      expect(await handlerType(extracted)).toBe('function');
    },
  );

  it('bundles equal an esbuild API build', async () => {
    const { build } = await import('esbuild');
    const outdir = join(WORK, 'api-build');
    rmSync(outdir, { recursive: true, force: true });
    await build({
      ...esbuildOptions,
      entryPoints: Object.values(functionEntryPoints),
      outdir,
      outbase: REPO,
      absWorkingDir: REPO,
      logLevel: 'silent',
    });
    for (const [name, entry] of Object.entries(functionEntryPoints)) {
      const bundle = entry.replace(/\.ts$/, '.cjs');
      const packaged = readZip(join(packageDir, `${name}.zip`))
        .find((file) => file.name === bundle)
        ?.read();
      expect(packaged?.equals(readFileSync(join(outdir, bundle)))).toBe(true);
    }
  }, 120_000);

  describe('checker on a broken copy', () => {
    it('reports a removed state table', () => {
      const broken = structuredClone(template);
      delete broken.Resources.StateTable;
      const problems = checkTemplate(broken, EXPECTED);
      expect(checkTables(broken)).toEqual([
        'STATE_TABLE does not name a DynamoDB table in the template (StateTable)',
      ]);
      expect(problems).toContainEqual(
        expect.stringContaining(
          'refers to StateTable, which is not in Resources',
        ),
      );
    });

    it('reports a missing filter policy', () => {
      const broken = structuredClone(template);
      const subscription = broken.Resources.QuotaActionSnsSubscriptionAlerts;
      delete subscription?.Properties?.FilterPolicy;
      expect(checkSnsSubscriptions(broken, EXPECTED.alertEmails)).toEqual([
        expect.stringContaining('has filter policy undefined'),
      ]);
    });

    it('reports a missing email subscription', () => {
      const broken = structuredClone(template);
      for (const [id, resource] of Object.entries(broken.Resources)) {
        if (resource.Properties?.Endpoint === 'ops@example.com') {
          delete broken.Resources[id];
        }
      }
      expect(checkSnsSubscriptions(broken, EXPECTED.alertEmails)).toEqual([
        expect.stringContaining(
          'email subscriptions are ["finance@example.com"]',
        ),
      ]);
    });

    it('reports Resource "*"', () => {
      const broken = structuredClone(template);
      const policies = broken.Resources.CheckBudgetsRole?.Properties
        ?.Policies as Array<{ PolicyDocument: { Statement: unknown[] } }>;
      policies[0]?.PolicyDocument.Statement.push({
        Effect: 'Allow',
        Action: 'dynamodb:GetItem',
        Resource: '*',
      });
      expect(checkIamWildcards(broken)).toEqual([
        'CheckBudgetsRole grants "dynamodb:GetItem" on Resource "*"',
      ]);
    });

    it('reports a wildcard table ARN', () => {
      const broken = structuredClone(template);
      const policies = broken.Resources.QuotaActionRole?.Properties
        ?.Policies as Array<{
        PolicyDocument: { Statement: Array<Record<string, unknown>> };
      }>;
      for (const statement of policies[0]?.PolicyDocument.Statement ?? []) {
        if (JSON.stringify(statement.Resource ?? null).includes('StateTable')) {
          statement.Resource = {
            'Fn::Sub':
              'arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/*',
          };
        }
      }
      expect(checkIamWildcards(broken)).toEqual([
        expect.stringContaining('QuotaActionRole grants the wildcard ARN'),
      ]);
      expect(checkIamGrants(broken)).toContainEqual(
        expect.stringContaining(
          'QuotaActionRole does not grant dynamodb:Query',
        ),
      );
    });
  });
});

describe('serverless package with an invalid budgets file', () => {
  it(
    'fails with the config error',
    async () => {
      mkdirSync(WORK, { recursive: true });
      const invalid = join(WORK, 'invalid-budgets.yml');
      const valid = readFileSync(join(REPO, 'budgets.yml'), 'utf8');
      const text = valid.replace('cutAt: 1.2', 'cutAt: -1');
      expect(text).not.toBe(valid);
      writeFileSync(invalid, text);
      const packageDir = join(WORK, 'invalid-package');
      rmSync(packageDir, { recursive: true, force: true });

      const run = await runPackage([
        '--package',
        packageDir,
        '--param=budgetsFile=.test-output/deploy/invalid-budgets.yml',
      ]);

      expect(run.code).not.toBe(0);
      expect(run.output).toContain('invalid config');
      expect(run.output).toContain(
        'budgets.default.cutAt: expected a fraction greater than 0 (got -1)',
      );
      expect(existsSync(join(packageDir, 'checkBudgets.zip'))).toBe(false);
    },
    PACKAGE_TIMEOUT_MS,
  );
});

describe('alertEmails param', () => {
  it('splits, trims and drops duplicates', () => {
    expect(
      parseAlertEmails(' a@example.com,B@example.com , A@Example.com'),
    ).toEqual(['a@example.com', 'B@example.com']);
  });

  it('gives no addresses for none', () => {
    expect(parseAlertEmails('none')).toEqual([]);
    expect(parseAlertEmails('')).toEqual([]);
  });

  it('takes a YAML list', () => {
    expect(parseAlertEmails(['a@example.com'])).toEqual(['a@example.com']);
  });

  it('rejects a malformed address', () => {
    expect(() => parseAlertEmails('a@example.com,ops')).toThrow(
      'invalid email address "ops"',
    );
  });
});
