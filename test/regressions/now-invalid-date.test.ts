import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { main } from '../../lib/cli/main.js';
import { startGuard } from '../helpers/guard.js';

let guard: Awaited<ReturnType<typeof startGuard>> | undefined;
afterEach(async () => {
  await guard?.close();
  guard = undefined;
});

it.each([
  ['2026-02-29T12:00:00Z'],
  ['2026-02-30T00:00:00Z'],
  ['2026-04-31T00:00:00+03:00'],
])('check rejects nonexistent --now %s', async (now) => {
  guard = await startGuard({ scenario: { projects: [{ name: 'sandbox' }] } });
  const config = join(guard.folder, 'budgets.json');
  await writeFile(config, JSON.stringify(guard.config));
  let stdout = '';
  let stderr = '';

  const code = await main(
    ['check', '--config', config, '--json', '--dry-run', '--now', now],
    {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text) },
      env: {
        SELECTEL_API_KEY: guard.sim.scenario.apiKey,
        BUDGET_GUARD_STATE_DIR: guard.folder,
      },
      cwd: guard.folder,
    },
  );

  // 2026 is not a leap year and April has 30 days: there is no such instant.
  const document = JSON.parse(stdout) as { runAt?: string; error?: string };
  expect(document.runAt).toBeUndefined();
  expect(document.error).toMatch(/invalid --now/);
  expect(code).toBe(2);
  expect(stderr).toContain('--now');
});
