import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { main } from '../lib/cli/main.js';
import { SelectelSimulator } from '../sim/server.js';
import {
  DEMO_PROJECTS,
  demoBudgets,
  demoRunAt,
  demoScenario,
} from './demo-scenario.js';

/**
 * Runs the whole guard against the bundled Selectel simulator: a check that
 * notifies and cuts, a second check that sends nothing new, then a restore
 * that puts every quota back. Needs no credentials and no network.
 */
async function demo(): Promise<void> {
  const runAtMs = demoRunAt(Date.now());
  const runAt = new Date(runAtMs).toISOString();
  const sim = await SelectelSimulator.start(demoScenario(runAtMs));
  const folder = resolve('.budget-guard-demo');
  await rm(folder, { recursive: true, force: true });
  await mkdir(folder, { recursive: true });
  const configPath = join(folder, 'budgets.yml');
  await writeFile(configPath, demoConfig(sim));
  const env = {
    ...process.env,
    SELECTEL_API_KEY: sim.scenario.apiKey,
    BUDGET_GUARD_STATE_DIR: join(folder, 'state'),
    BUDGET_GUARD_CONFIG: configPath,
  };
  const cli = async (...args: string[]) => {
    let output = '';
    const status = await main(args, {
      stdout: { write: (text: string) => (output += text) },
      stderr: process.stderr,
      env,
      cwd: process.cwd(),
    });
    return { status, output: output.trimEnd() };
  };
  const cutProject = sim.state.project(
    [...sim.state.projects.values()].find(
      (project) => project.name === DEMO_PROJECTS.cut,
    )?.id ?? '',
  );
  if (!cutProject) throw new Error('demo scenario has no project to cut');
  try {
    heading('budget-guard demo');
    console.log(
      `Selectel simulator: ${sim.url} (account ${sim.scenario.account}, ${sim.state.projects.size} projects)`,
    );
    console.log(`Config: ${configPath}`);
    console.log(`State and outbox: ${env.BUDGET_GUARD_STATE_DIR}`);
    const before = sim.quotaValues(cutProject.id);

    heading(`First check, as of ${runAt}`);
    const first = await cli('check', '--now', runAt);
    console.log(first.output);
    console.log(`(exit status ${first.status})`);
    await printOutbox(join(env.BUDGET_GUARD_STATE_DIR, 'outbox.jsonl'));

    heading(
      `Quotas of ${DEMO_PROJECTS.cut} before and after the automatic cut`,
    );
    printQuotaDiff(before, sim.quotaValues(cutProject.id));

    heading('Second check: the same crossings send nothing new');
    const second = await cli('check', '--now', runAt);
    console.log(second.output);

    heading(`Restore ${DEMO_PROJECTS.cut}`);
    const restore = await cli('restore', DEMO_PROJECTS.cut);
    console.log(restore.output);
    const after = sim.quotaValues(cutProject.id);
    const same = Object.keys(before).filter(
      (key) => before[key]?.value === after[key]?.value,
    ).length;
    console.log(
      `\nQuotas equal to the ones before the cut: ${same} of ${Object.keys(before).length}` +
        (same === Object.keys(before).length
          ? ' (restored exactly)'
          : ' (MISMATCH)'),
    );

    heading(`Status of ${DEMO_PROJECTS.cut}`);
    console.log((await cli('status', DEMO_PROJECTS.cut)).output);
    if (same !== Object.keys(before).length) process.exitCode = 1;
  } finally {
    await sim.close();
  }
}

function demoConfig(sim: SelectelSimulator): string {
  const endpoints = sim.endpoints;
  const regions = Object.entries(endpoints.quotaManager)
    .map(([region, url]) => `    ${region}: ${url}`)
    .join('\n');

  return `# Written by npm run demo: the budgets of a small team, pointed at the simulator.
account: "${sim.scenario.account}"
timezone: Europe/Moscow
endpoints:
  resell: ${endpoints.resell}
  identity: ${endpoints.identity}
  gnocchi: [${endpoints.gnocchi.join(', ')}]
  quotaManager:
${regions}
costs: { metric: vpc.project.full.cost, granularity: 3600, aggregation: max, staleAfterHours: 36 }
${demoBudgets()}`;
}

async function printOutbox(path: string): Promise<void> {
  let lines: string[] = [];
  try {
    lines = (await readFile(path, 'utf8')).split('\n').filter(Boolean);
  } catch {
    lines = [];
  }
  heading(`Notifications in the outbox (${lines.length})`);
  for (const line of lines) {
    const message = JSON.parse(line) as {
      subject: string;
      text: string;
      event: string;
    };
    console.log(`\n✉ ${message.subject}   [${message.event}]`);
    console.log(
      message.text
        .split('\n')
        .map((text) => `  ${text}`)
        .join('\n'),
    );
  }
}

function printQuotaDiff(
  before: Record<string, { value: number; used: number }>,
  after: Record<string, { value: number; used: number }>,
): void {
  const width = Math.max(...Object.keys(before).map((key) => key.length));
  console.log(
    `${'region/zone/resource'.padEnd(width)}  ${'before'.padStart(8)}  ${'after'.padStart(8)}  ${'used'.padStart(8)}`,
  );
  for (const key of Object.keys(before).sort()) {
    const was = before[key];
    const now = after[key];
    if (!was || !now || (was.value === 0 && now.value === 0)) continue;
    console.log(
      `${key.padEnd(width)}  ${String(was.value).padStart(8)}  ${String(now.value).padStart(8)}  ${String(now.used).padStart(8)}`,
    );
  }
}

function heading(text: string): void {
  console.log(`\n== ${text} ==`);
}

demo().catch((error: unknown) => {
  console.error(
    `demo failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  );
  process.exitCode = 1;
});
