import { afterEach, expect, it } from 'vitest';
import type { ActionRequest } from '../../lib/quota/types.js';
import { hourly, startGuard } from '../helpers/guard.js';

const RUN_AT = Date.parse('2026-12-10T12:00:00Z');
const QUOTAS = {
  'ru-1': {
    compute_cores: [
      { zone: 'ru-1a', value: 48, used: 32 },
      { zone: 'ru-1b', value: 16, used: 4 },
    ],
    image_gigabytes: [{ value: 500, used: 120 }],
  },
};

let guard: Awaited<ReturnType<typeof startGuard>> | undefined;
afterEach(async () => {
  await guard?.close();
  guard = undefined;
});

const request = (action: 'cut' | 'restore'): ActionRequest => ({
  action,
  project: 'sandbox',
  source: 'cli',
  actor: 'tester',
});

it('restore after partial restore and recut', async () => {
  guard = await startGuard({
    scenario: {
      regions: [{ name: 'ru-1', zones: ['ru-1a', 'ru-1b'] }],
      projects: [
        {
          name: 'sandbox',
          costs: { hourly: hourly(RUN_AT, 15, 10_000) },
          quotas: QUOTAS,
        },
      ],
    },
    budgets: { projects: { sandbox: {} } },
  });
  const { actions, sim, projectId } = guard;
  const id = projectId('sandbox');
  const before = sim.quotaValues(id);

  const firstCut = await actions.execute(request('cut'));
  sim.addFault({
    route: 'quota.patch',
    region: 'ru-1',
    times: 1,
    failEntries: [{ resource: 'compute_cores', zone: 'ru-1b' }],
  });
  const partialRestore = await actions.execute(request('restore'));
  const secondCut = await actions.execute(request('cut'));
  const finalRestore = await actions.execute(request('restore'));

  expect(firstCut.status).toBe('done');
  expect(partialRestore.status).toBe('partial');
  expect(secondCut.status).toBe('done');
  expect(finalRestore.status).toBe('done');
  expect(finalRestore.snapshot?.status).toBe('restored');
  // The snapshot is marked restored, so every value must be back.
  expect(sim.quotaValues(id)).toEqual(before);
});
