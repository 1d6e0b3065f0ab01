import { afterEach, expect, it } from 'vitest';
import { projectIdFor } from '../../sim/scenario.js';
import { hourly, startGuard } from '../helpers/guard.js';

const RUN_AT = Date.parse('2026-12-10T12:00:00Z');

let guard: Awaited<ReturnType<typeof startGuard>> | undefined;
afterEach(async () => {
  await guard?.close();
  guard = undefined;
});

it('name protection survives id override', async () => {
  const prodId = projectIdFor('prod');
  guard = await startGuard({
    scenario: {
      projects: [
        {
          name: 'prod',
          // 1 500 RUB today: over a 1 000 RUB daily limit at cutAt 1.2.
          costs: { hourly: hourly(RUN_AT, 15, 10_000) },
          quotas: {
            'ru-1': { compute_cores: [{ zone: 'ru-1a', value: 48, used: 32 }] },
          },
        },
      ],
    },
    budgets: {
      projects: {
        // Protection by name, and a monthly limit added later by id.
        prod: { action: 'none' },
        [prodId]: { monthly: 150_000 },
      },
    },
  });

  const result = await guard.check(RUN_AT);

  expect(result.projects[0]?.action?.status).toBe('refused');
  expect(guard.sim.quotaValues(prodId)['ru-1/ru-1a/compute_cores']?.value).toBe(
    48,
  );
});
