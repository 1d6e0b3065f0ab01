import { afterEach, expect, it } from 'vitest';
import { hourly, startGuard } from '../helpers/guard.js';

const RUN_AT = Date.parse('2026-12-10T12:00:00Z');

let guard: Awaited<ReturnType<typeof startGuard>> | undefined;
afterEach(async () => {
  await guard?.close();
  guard = undefined;
});

it('absurd bucket spares other projects', async () => {
  guard = await startGuard({
    scenario: {
      projects: [
        {
          name: 'broken',
          // A finite double that overflows once scaled to micro-kopecks.
          costs: {
            hourly: [[new Date(RUN_AT - 3_600_000).toISOString(), 1e303]],
          },
        },
        {
          name: 'sandbox',
          costs: { hourly: hourly(RUN_AT, 15, 10_000) },
          quotas: {
            'ru-1': { compute_cores: [{ zone: 'ru-1a', value: 48, used: 32 }] },
          },
        },
      ],
    },
    budgets: { projects: { broken: {}, sandbox: {} } },
  });

  const run = guard.check(RUN_AT);

  await expect(run).resolves.toBeDefined();
  const result = await run.catch(() => undefined);
  const sandbox = result?.projects.find((p) => p.evaluation.name === 'sandbox');
  expect(sandbox?.evaluation.level).toBe('cut');
});
