import { afterEach, expect, it } from 'vitest';
import { startGuard } from '../helpers/guard.js';

let guard: Awaited<ReturnType<typeof startGuard>> | undefined;
afterEach(async () => {
  await guard?.close();
  guard = undefined;
});

it('zero cut after partial freeze', async () => {
  guard = await startGuard({
    scenario: {
      regions: [{ name: 'ru-1', zones: ['ru-1a', 'ru-1b'] }],
      projects: [
        {
          name: 'sandbox',
          quotas: {
            'ru-1': {
              compute_cores: [
                { zone: 'ru-1a', value: 48, used: 32 },
                { zone: 'ru-1b', value: 16, used: 4 },
              ],
            },
          },
        },
      ],
    },
    budgets: { projects: { sandbox: {} } },
  });
  const { actions, sim, projectId } = guard;
  const id = projectId('sandbox');
  sim.addFault({
    route: 'quota.patch',
    region: 'ru-1',
    times: 1,
    failEntries: [{ resource: 'compute_cores', zone: 'ru-1b' }],
  });
  const freeze = await actions.execute({
    action: 'cut',
    project: 'sandbox',
    mode: 'freeze',
    source: 'cli',
    actor: 'tester',
  });

  // A person escalates: zero every quota of the project.
  const zero = await actions.execute({
    action: 'cut',
    project: 'sandbox',
    mode: 'zero',
    source: 'webhook',
    actor: 'tester',
  });
  const values = sim.quotaValues(id);

  expect(freeze.status).toBe('partial');
  expect(zero.status).toBe('done');
  expect(zero.mode).toBe('zero');
  expect(values['ru-1/ru-1b/compute_cores']?.value).toBe(0);
  expect(values['ru-1/ru-1a/compute_cores']?.value).toBe(0);
});
