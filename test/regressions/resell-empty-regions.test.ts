import { afterEach, expect, it } from 'vitest';
import { validateConfig } from '../../lib/config/load.js';
import { silentLog } from '../../lib/log.js';
import { QuotaActions } from '../../lib/quota/actions.js';
import { selectelFromConfig } from '../../lib/wiring/selectel.js';
import { startGuard } from '../helpers/guard.js';

let guard: Awaited<ReturnType<typeof startGuard>> | undefined;
afterEach(async () => {
  await guard?.close();
  guard = undefined;
});

it('legacy API empty region map', async () => {
  guard = await startGuard({
    scenario: {
      projects: [
        {
          name: 'sandbox',
          quotas: {
            'ru-1': { compute_cores: [{ zone: 'ru-1a', value: 48, used: 32 }] },
          },
        },
      ],
    },
    budgets: { projects: { sandbox: {} } },
  });
  // The loader accepts an empty map. The quota manager then falls back to
  // the catalog, but the legacy API reads it as "no region at all".
  const config = validateConfig({
    ...guard.config,
    endpoints: { ...guard.config.endpoints, quotaManager: {} },
    quotas: { api: 'resell' },
  });
  const client = selectelFromConfig(
    config,
    { kind: 'apiKey', apiKey: guard.sim.scenario.apiKey },
    silentLog,
    { sleep: async () => {} },
  );
  const actions = new QuotaActions({
    config,
    selectel: client,
    store: guard.store,
    notifier: guard.notifier,
    log: silentLog,
  });
  try {
    const result = await actions.execute({
      action: 'cut',
      project: 'sandbox',
      source: 'cli',
      actor: 'tester',
    });
    const quota = guard.sim.quotaValues(guard.projectId('sandbox'))[
      'ru-1/ru-1a/compute_cores'
    ];

    expect(result.status).toBe('done');
    // A cut that reports done must have lowered the quota to its use.
    expect(quota?.value).toBe(32);
  } finally {
    await client.close();
  }
});
