import { afterEach, expect, it } from 'vitest';
import { startGuard } from '../helpers/guard.js';

let guard: Awaited<ReturnType<typeof startGuard>> | undefined;
afterEach(async () => {
  await guard?.close();
  guard = undefined;
});

it('restores with one region unreadable', async () => {
  guard = await startGuard({
    scenario: {
      projects: [
        {
          name: 'sandbox',
          quotas: {
            'ru-1': { compute_cores: [{ zone: 'ru-1a', value: 48, used: 32 }] },
            'ru-3': { compute_cores: [{ zone: 'ru-3a', value: 24, used: 8 }] },
          },
        },
      ],
    },
    budgets: { projects: { sandbox: {} } },
  });
  const { actions, sim, projectId } = guard;
  const id = projectId('sandbox');
  const cut = await actions.execute({
    action: 'cut',
    project: 'sandbox',
    source: 'cli',
    actor: 'tester',
  });
  // The ru-3 quota manager fails every read from now on.
  sim.addFault({ route: 'quota.get', region: 'ru-3', status: 500 });

  const restore = await actions
    .execute({
      action: 'restore',
      project: 'sandbox',
      source: 'cli',
      actor: 'tester',
    })
    .catch((error: Error) => ({ status: `threw: ${error.message}` }));

  expect(cut.status).toBe('done');
  // The unread region gets its saved values sent without a read: they are
  // absolute, so the restore completes in both regions.
  expect(restore.status).toBe('done');
  expect(sim.quotaValues(id)['ru-1/ru-1a/compute_cores']?.value).toBe(48);
  expect(sim.quotaValues(id)['ru-3/ru-3a/compute_cores']?.value).toBe(24);
});
