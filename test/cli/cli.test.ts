import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySignature } from '../../lib/webhook/signature.js';
import { SelectelSimulator } from '../../sim/server.js';
import { type CliRun, runMain } from '../helpers/cli-run.js';
import { useTempFolder } from '../helpers/config-temp-folder.js';
import { hourly } from '../helpers/guard.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const RUN_AT = '2026-12-10T12:00:00Z';
const RUN_AT_MS = Date.parse(RUN_AT);

describe('budget-guard CLI', () => {
  const tempFolder = useTempFolder('budget-guard-cli-');
  let sim: SelectelSimulator;
  let folder: string;
  let config: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    sim = await SelectelSimulator.start({
      projects: [
        { name: 'calm', costs: { hourly: hourly(RUN_AT_MS, 48, 1_000) } },
        {
          name: 'hungry',
          costs: { hourly: hourly(RUN_AT_MS, 15, 10_000) },
          quotas: {
            'ru-1': { compute_cores: [{ zone: 'ru-1a', value: 40, used: 10 }] },
          },
        },
        {
          name: 'prod',
          costs: { hourly: hourly(RUN_AT_MS, 48, 1_000) },
          quotas: {
            'ru-1': { compute_cores: [{ zone: 'ru-1a', value: 40, used: 10 }] },
          },
        },
      ],
    });
    folder = tempFolder();
    config = join(folder, 'budgets.yml');
    await writeFile(
      config,
      [
        `account: "${sim.scenario.account}"`,
        'timezone: Europe/Moscow',
        `endpoints: ${JSON.stringify(sim.endpoints)}`,
        'costs: { granularity: 3600 }',
        'budgets:',
        '  default: { daily: 1000, monthly: 20000, cutAt: 1.2, action: freeze }',
        '  projects:',
        '    calm: {}',
        '    hungry: {}',
        '    prod: { action: none }',
      ].join('\n'),
    );
    env = {
      SELECTEL_API_KEY: sim.scenario.apiKey,
      BUDGET_GUARD_STATE_DIR: join(folder, 'state'),
      WEBHOOK_SECRET: 'cli-secret',
    };
  });

  afterAll(async () => {
    await sim.close();
  });

  function cli(args: string[], extraEnv: NodeJS.ProcessEnv = {}) {
    return runMain(args, {
      env: { ...env, ...extraEnv },
      cwd: folder,
      now: () => RUN_AT_MS,
      http: { sleep: async () => {} },
    });
  }

  /** Builds `check` arguments against the test config at RUN_AT. */
  function checkArgs(...flags: string[]): string[] {
    return ['check', '--config', config, '--now', RUN_AT, ...flags];
  }

  it('prints the JSON document of a check', async () => {
    const run = await cli(checkArgs('--json'));
    const report = JSON.parse(run.stdout);
    const hungry = report.projects.find(
      (project: { name: string }) => project.name === 'hungry',
    );
    const calm = report.projects.find(
      (project: { name: string }) => project.name === 'calm',
    );

    expect(run.status).toBe(0);
    expect(report).toMatchObject({
      runAt: '2026-12-10T12:00:00.000Z',
      timezone: 'Europe/Moscow',
      errors: 0,
      account: null,
    });
    expect(Object.keys(hungry)).toEqual(
      expect.arrayContaining([
        'id',
        'name',
        'dataStatus',
        'days',
        'month',
        'level',
        'notifications',
        'action',
        'error',
      ]),
    );
    expect(hungry.id).toMatch(/^[0-9a-f]{32}$/);
    // No bucket ends yesterday, so yesterday cannot count as complete.
    expect(hungry.days).toEqual([
      {
        date: '2026-12-09',
        spent: 0,
        limit: 1000,
        complete: false,
        level: 'ok',
      },
      {
        date: '2026-12-10',
        spent: 1500,
        limit: 1000,
        complete: false,
        level: 'cut',
      },
    ]);
    expect(hungry.month).toMatchObject({
      month: '2026-12',
      spent: 1500,
      limit: 20000,
      level: 'ok',
    });
    expect(hungry.level).toBe('cut');
    expect(hungry.action).toMatchObject({
      type: 'cut',
      mode: 'freeze',
      status: 'done',
    });
    expect(hungry.notifications).toEqual([
      expect.objectContaining({ period: 'day', level: 'cut' }),
    ]);
    expect(calm.days[0]).toEqual({
      date: '2026-12-09',
      spent: 240,
      limit: 1000,
      complete: true,
      level: 'ok',
    });
  });

  it('lists no notifications on a rerun', async () => {
    const run = await cli(checkArgs('--json'));
    const report = JSON.parse(run.stdout);

    expect(run.status).toBe(0);
    expect(
      report.projects.flatMap(
        (project: { notifications: unknown[] }) => project.notifications,
      ),
    ).toEqual([]);
  });

  it('prints a table by default', async () => {
    const run = await cli(checkArgs('--dry-run'));

    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/PROJECT\s+DATA\s+YESTERDAY\s+TODAY\s+MONTH/);
    expect(run.stdout).toMatch(
      /hungry\s+ok\s+0\.00 \/ 1 000\.00\s+1 500\.00 \/ 1 000\.00/,
    );
    expect(run.stdout).toContain('dry run');
  });

  it('exits 1 when a project fails', async () => {
    sim.addFault({ route: 'gnocchi.aggregates', status: 500, times: 1 });
    sim.addFault({ route: 'gnocchi.measures', status: 500, times: 5 });

    const run = await cli(checkArgs('--json', '--dry-run'));
    sim.clearFaults();

    expect(run.status).toBe(1);
    expect(JSON.parse(run.stdout).errors).toBeGreaterThan(0);
  });

  it('restores and reports the restored quotas', async () => {
    const run = await cli(['restore', 'hungry', '--config', config, '--json']);
    const body = JSON.parse(run.stdout);

    expect(run.status).toBe(0);
    expect(body).toMatchObject({
      project: { name: 'hungry' },
      action: 'restore',
      status: 'done',
      dryRun: false,
    });
    expect(body.changes).toEqual([
      {
        region: 'ru-1',
        zone: 'ru-1a',
        resource: 'compute_cores',
        before: 10,
        after: 40,
        ok: true,
      },
    ]);
    expect(body.snapshot.status).toBe('restored');
  });

  it('exits 1 when a cut is refused', async () => {
    const run = await cli(['cut', 'prod', '--config', config, '--json']);

    expect(run.status).toBe(1);
    expect(JSON.parse(run.stdout).status).toBe('refused');
  });

  it('shows the diff of a dry-run cut', async () => {
    const run = await cli([
      'cut',
      'hungry',
      '--mode',
      'zero',
      '--dry-run',
      '--config',
      config,
      '--json',
    ]);

    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout).changes).toEqual([
      {
        region: 'ru-1',
        zone: 'ru-1a',
        resource: 'compute_cores',
        before: 40,
        after: 0,
        ok: true,
      },
    ]);
  });

  it('shows the status of one project and of all', async () => {
    const one = await cli(['status', 'hungry', '--config', config]);
    const all = await cli(['status', '--config', config, '--json']);

    expect(one.status).toBe(0);
    expect(one.stdout).toMatch(/snapshot .*: restored, mode freeze/);
    expect(one.stdout).toMatch(/restore done by/);
    expect(JSON.parse(all.stdout).projects).toHaveLength(3);
  });

  it('validates a config', async () => {
    const run = await cli(['validate', '--config', config]);

    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(
      /is valid: account 123456, 3 project override\(s\), local days in Europe\/Moscow/,
    );
  });

  it('discovers metrics with their granularities', async () => {
    const run = await cli(['discover', '--config', config, '--json']);
    const report = JSON.parse(run.stdout);

    expect(run.status).toBe(0);
    expect(report.sources[0].metrics['vpc.project.full.cost']).toMatchObject({
      granularities: [3600, 86400],
      aggregationMethods: ['max', 'mean', 'min', 'sum'],
    });
    expect(report.sources[0].account.metrics).toEqual([
      'vpc.account.full.cost',
    ]);
    expect(report.sources[0].projects).toHaveLength(3);
  });

  it('signs a webhook body for curl', async () => {
    const body = '{"action":"status","project":"hungry"}';

    const run = await cli([
      'sign',
      '--body',
      body,
      '--url',
      'https://example.invalid/quota-actions',
    ]);
    const header = /X-Budget-Guard-Signature: (t=\d+,v1=[0-9a-f]{64})/.exec(
      run.stdout,
    )?.[1];

    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(
      /^curl -sS -X POST 'https:\/\/example.invalid\/quota-actions'/,
    );
    expect(
      verifySignature({
        header,
        rawBody: body,
        secrets: ['cli-secret'],
        nowSeconds: RUN_AT_MS / 1000,
      }).ok,
    ).toBe(true);
  });

  it.each([
    [
      ['check', '--config', 'missing.yml'],
      /cannot load config .*missing\.yml:\n {2}\(top level\): file not found; pass --config FILE or set BUDGET_GUARD_CONFIG/,
    ],
    [['check', '--bogus'], /unknown option --bogus/],
    [['frobnicate'], /unknown command "frobnicate"/],
    [
      ['check', '--now', 'yesterday'],
      /invalid --now "yesterday": give an ISO 8601 instant with a UTC offset/,
    ],
    [['check', '--now', '2026-12-10T12:00:00'], /invalid --now/],
    [['cut'], /cut takes exactly one PROJECT/],
    [
      ['cut', 'hungry', '--mode', 'melt'],
      /invalid --mode "melt": use freeze or zero/,
    ],
    [['sign', '--body', 'not json'], /--body is not valid JSON/],
  ])('exits 2 on bad usage %j', async (args, message) => {
    const run = await cli(
      args.includes('--config') ? args : [...args, '--config', config],
    );

    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(message);
  });

  it('exits 2 without credentials', async () => {
    const run = await cli(['check', '--config', config], {
      SELECTEL_API_KEY: '',
    });

    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(
      /set SELECTEL_API_KEY, or SELECTEL_USERNAME and SELECTEL_PASSWORD/,
    );
  });

  it('exits 2 on an invalid config with the field path', async () => {
    const bad = join(folder, 'bad.yml');
    await writeFile(
      bad,
      'account: "1"\nbudgets:\n  default: { action: stop }\n',
    );

    const run = await cli(['validate', '--config', bad]);

    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(
      /budgets\.default\.action: expected one of freeze/,
    );
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('runs as the installed binary', async () => {
    const run = await spawnNode(
      [join(ROOT, 'bin/budget-guard.js'), ...checkArgs('--json', '--dry-run')],
      env,
    );

    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout).projects).toHaveLength(3);
  });

  it('starts the simulator from the command line', async () => {
    const scenario = join(folder, 'scenario.yml');
    await writeFile(scenario, 'projects:\n  - name: Проект\n');
    const child = spawn(
      process.execPath,
      [join(ROOT, 'dist/sim/cli.js'), '--scenario', scenario],
      { cwd: ROOT },
    );
    const firstLine = await new Promise<string>((resolve, reject) => {
      let text = '';
      child.stdout.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        if (text.includes('\n')) resolve(text.split('\n')[0] ?? '');
      });
      child.on('error', reject);
      child.on('exit', (code) =>
        reject(
          new Error(`simulator exited with ${code}; run npm run build first`),
        ),
      );
    });

    const response = await fetch(`${firstLine}/__sim/endpoints`);
    const endpoints = (await response.json()) as { resell: string };
    child.kill('SIGTERM');

    expect(firstLine).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(endpoints.resell).toBe(`${firstLine}/vpc/resell/v2`);
  });
});

function spawnNode(args: string[], env: NodeJS.ProcessEnv): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { PATH: process.env.PATH, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (status) =>
      resolve({ status: status ?? -1, stdout, stderr }),
    );
  });
}

describe('budget-guard argument checks', () => {
  function run(args: string[]) {
    return runMain(args, { env: {}, cwd: tmpdir() });
  }

  it('suggests the option meant by a typo', async () => {
    const result = await run(['check', '--dryrun']);

    expect(result.status).toBe(2);
    expect(result.stderr).toBe(
      'budget-guard check: unknown option --dryrun; did you mean --dry-run? (run budget-guard --help)\n',
    );
  });

  it.each([
    [
      ['check', 'sandbox'],
      /unexpected argument "sandbox"; check takes no arguments/,
    ],
    [
      ['validate', 'a.yml'],
      /unexpected argument "a.yml"; validate takes no arguments/,
    ],
    [['status', 'a', 'b'], /unexpected argument "b"; status takes one PROJECT/],
  ])('rejects stray arguments %j', async (args, message) => {
    const result = await run(args);

    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(message);
  });

  it('prints a JSON error document with --json', async () => {
    const result = await run([
      'validate',
      '--json',
      '--config',
      join(tmpdir(), 'no-such-budgets.yml'),
    ]);
    const document = JSON.parse(result.stdout);

    expect(result.status).toBe(2);
    expect(document.exitStatus).toBe(2);
    expect(document.error).toMatch(/cannot load config/);
    expect(document.issues).toEqual([
      {
        path: '',
        message:
          'file not found; pass --config FILE or set BUDGET_GUARD_CONFIG',
      },
    ]);
  });

  it('names a missing --body file', async () => {
    const result = await runMain(['sign', '--body', '@/no/such/body.json'], {
      env: { WEBHOOK_SECRET: 's' },
      cwd: tmpdir(),
    });

    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(
      /--body file \/no\/such\/body.json not found/,
    );
  });
});
