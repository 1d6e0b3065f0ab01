import { afterEach, expect, it } from 'vitest';
import { projectIdFor } from '../../sim/scenario.js';
import { hourly, startGuard } from '../helpers/guard.js';

const RUN_AT = Date.parse('2026-12-10T12:00:00Z');

let guard: Awaited<ReturnType<typeof startGuard>> | undefined;
afterEach(async () => {
  await guard?.close();
  guard = undefined;
});

it('uppercase id override protects project', async () => {
  const prodId = projectIdFor('prod');
  guard = await startGuard({
    scenario: {
      projects: [
        {
          name: 'prod',
          costs: { hourly: hourly(RUN_AT, 15, 10_000) },
          quotas: {
            'ru-1': { compute_cores: [{ zone: 'ru-1a', value: 48, used: 32 }] },
          },
        },
      ],
    },
    // The CLI and the webhook accept the id in any case; the config does too,
    // but then never matches it.
    budgets: { projects: { [prodId.toUpperCase()]: { action: 'none' } } },
  });

  const result = await guard.check(RUN_AT);

  expect(guard.sim.quotaValues(prodId)['ru-1/ru-1a/compute_cores']?.value).toBe(
    48,
  );
  expect(result.projects[0]?.action?.status).toBe('refused');
});
