import { afterEach, expect, it } from 'vitest';
import { HOUR_MS, hourly, startGuard } from '../helpers/guard.js';

const RUN_AT = Date.parse('2026-12-10T12:00:00Z');
const DAY_MS = 24 * HOUR_MS;

let guard: Awaited<ReturnType<typeof startGuard>> | undefined;
afterEach(async () => {
  await guard?.close();
  guard = undefined;
});

it('notes a source that stopped reporting', async () => {
  guard = await startGuard({
    scenario: {
      gnocchi: {
        sources: ['ru-3', 'ru-1'],
        projectMetric: 'vpc.project.full.cost',
        accountMetric: 'vpc.account.full.cost',
        pageLimitMax: 1000,
        granularities: [3600, 86_400],
        aggregationMethods: ['max'],
      },
      projects: [
        {
          name: 'sandbox',
          costs: {
            // The cloud core source is current.
            'ru-3': { hourly: hourly(RUN_AT, 15, 100) },
            // The platform source, where this project spends most, stopped
            // updating three days ago.
            'ru-1': { hourly: hourly(RUN_AT - 3 * DAY_MS, 48, 10_000) },
          },
        },
      ],
    },
    budgets: { projects: { sandbox: {} } },
  });

  const result = await guard.check(RUN_AT);
  const project = result.projects[0]!;

  // Today's total contains none of the platform's spend. A project that
  // stopped using the platform looks the same, so the status stays ok (a
  // stale status would block its cuts) and the report carries a note.
  expect(project.evaluation.spend.days[1].spentKopecks).toBe(1_500);
  expect(project.evaluation.spend.dataStatus).toBe('ok');
  expect(project.evaluation.spend.reason).toMatch(
    /one data source has no bucket for 73 h/,
  );
});
