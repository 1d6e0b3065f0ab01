import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { main } from '../../lib/cli/main.js';
import { hourly, startGuard } from '../helpers/guard.js';

const RUN_AT = Date.parse('2026-12-10T12:00:00Z');

let guard: Awaited<ReturnType<typeof startGuard>> | undefined;
afterEach(async () => {
  await guard?.close();
  guard = undefined;
});

it('check rejects stray PROJECT argument', async () => {
  guard = await startGuard({
    scenario: {
      projects: [
        {
          name: 'sandbox',
          costs: { hourly: hourly(RUN_AT, 15, 10_000) },
          quotas: {
            'ru-1': { compute_cores: [{ zone: 'ru-1a', value: 48, used: 32 }] },
          },
        },
        {
          name: 'other',
          costs: { hourly: hourly(RUN_AT, 15, 10_000) },
          quotas: {
            'ru-1': { compute_cores: [{ zone: 'ru-1a', value: 48, used: 32 }] },
          },
        },
      ],
    },
    budgets: { projects: { sandbox: {}, other: {} } },
  });
  const config = join(guard.folder, 'budgets.json');
  await writeFile(config, JSON.stringify(guard.config));

  // "check" takes no PROJECT; a user who means one project gets every one.
  const code = await main(
    [
      'check',
      'sandbox',
      '--config',
      config,
      '--json',
      '--now',
      new Date(RUN_AT).toISOString(),
    ],
    {
      stdout: { write: () => true },
      stderr: { write: () => true },
      env: {
        SELECTEL_API_KEY: guard.sim.scenario.apiKey,
        BUDGET_GUARD_STATE_DIR: guard.folder,
      },
      cwd: guard.folder,
    },
  );

  expect(
    guard.sim.quotaValues(guard.projectId('other'))['ru-1/ru-1a/compute_cores']
      ?.value,
  ).toBe(48);
  expect(code).toBe(2);
});
