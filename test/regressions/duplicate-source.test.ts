import { afterEach, expect, it } from 'vitest';
import { runCheck } from '../../lib/check/run.js';
import { validateConfig } from '../../lib/config/load.js';
import type { Config } from '../../lib/config/schema.js';
import { silentLog } from '../../lib/log.js';
import { QuotaActions } from '../../lib/quota/actions.js';
import { localCutRequester } from '../../lib/quota/local-requester.js';
import { selectelFromConfig } from '../../lib/wiring/selectel.js';
import { hourly, startGuard } from '../helpers/guard.js';

const RUN_AT = Date.parse('2026-12-10T12:00:00Z');

let guard: Awaited<ReturnType<typeof startGuard>> | undefined;
afterEach(async () => {
  await guard?.close();
  guard = undefined;
});

it('duplicate Gnocchi source counted once', async () => {
  guard = await startGuard({
    scenario: {
      projects: [
        {
          name: 'sandbox',
          // 8 hours of 10 000 kopecks: 800 RUB today, under the 1 000 RUB limit.
          costs: { hourly: hourly(RUN_AT, 8, 10_000) },
          quotas: {
            'ru-1': { compute_cores: [{ zone: 'ru-1a', value: 48, used: 32 }] },
          },
        },
      ],
    },
    budgets: { projects: { sandbox: {} } },
  });
  const url = guard.config.endpoints.gnocchi![0]!;
  const endpoints = { ...guard.config.endpoints, gnocchi: [url, `${url}/`] };
  // The loader rejects the same source twice; a config built in code still
  // reaches the client, which reads each endpoint once.
  expect(() => validateConfig({ ...guard!.config, endpoints })).toThrow(
    /same endpoint twice/,
  );
  const config: Config = { ...guard.config, endpoints };
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
    const result = await runCheck(
      {
        config,
        selectel: client,
        store: guard.store,
        notifier: guard.notifier,
        cuts: localCutRequester(actions, RUN_AT),
        log: silentLog,
      },
      { runAtMs: RUN_AT },
    );
    const project = result.projects[0]!;

    // The project is under its cut level, so its quota must be untouched.
    expect(
      guard.sim.quotaValues(guard.projectId('sandbox'))[
        'ru-1/ru-1a/compute_cores'
      ]?.value,
    ).toBe(48);
    expect(project.action).toBeNull();
    expect(project.evaluation.spend.days[1].spentKopecks).toBe(80_000);
  } finally {
    await client.close();
  }
});
