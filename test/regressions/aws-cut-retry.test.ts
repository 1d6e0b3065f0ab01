import type { SNSEvent } from 'aws-lambda';
import { afterEach, expect, it } from 'vitest';
import { eventCutRequester } from '../../lib/check/cut-request.js';
import { EVENTS } from '../../lib/notify/port.js';
import { handleCutEvent } from '../../lib/quota/events.js';
import { silentLog } from '../../lib/log.js';
import type { Notification } from '../../lib/notify/port.js';
import { HOUR_MS, hourly, startGuard } from '../helpers/guard.js';

const RUN_AT = Date.parse('2026-12-10T12:00:00Z');

let guard: Awaited<ReturnType<typeof startGuard>> | undefined;
afterEach(async () => {
  await guard?.close();
  guard = undefined;
});

/** Delivers a published cut request to the quota-action handler, as SNS would. */
async function deliver(notification: Notification, asOfMs: number) {
  const event = {
    Records: [
      {
        Sns: {
          MessageId: 'm-1',
          Message: JSON.stringify(notification.data),
        },
      },
    ],
  } as unknown as SNSEvent;
  const current = guard!;
  const statuses: string[] = [];
  await handleCutEvent(event, {
    actions: {
      execute: async (request) => {
        const result = await current.actions.execute({ ...request, asOfMs });
        statuses.push(result.status);
        return result;
      },
    } as typeof current.actions,
    store: current.store,
    log: silentLog,
  });
  return statuses;
}

const cutRequests = () =>
  guard!.notifier.sent.filter((sent) => sent.event === EVENTS.cutRequested);

it('AWS check retries skipped cut', async () => {
  guard = await startGuard({
    scenario: {
      projects: [
        {
          name: 'sandbox',
          // 1 500 RUB today against a 1 000 RUB daily limit and cutAt 1.2.
          costs: { hourly: hourly(RUN_AT + HOUR_MS, 16, 10_000) },
          quotas: {
            'ru-1': { compute_cores: [{ zone: 'ru-1a', value: 48, used: 32 }] },
          },
        },
      ],
    },
    budgets: { projects: { sandbox: {} } },
  });
  const { sim, projectId } = guard;
  const id = projectId('sandbox');

  const first = await guard.check(RUN_AT, { cuts: eventCutRequester });
  expect(first.projects[0]?.action?.status).toBe('requested');
  expect(cutRequests()).toHaveLength(1);
  // The re-check in the quota-action function meets a transient Gnocchi error.
  sim.addFault({ route: 'gnocchi.search', status: 500, times: 1 });
  expect(await deliver(cutRequests()[0]!, RUN_AT)).toEqual(['skipped']);
  expect(sim.quotaValues(id)['ru-1/ru-1a/compute_cores']?.value).toBe(48);

  // The next hourly run: still over the cut level, data ok, not cut.
  const second = await guard.check(RUN_AT + HOUR_MS, {
    cuts: eventCutRequester,
  });
  expect(second.projects[0]?.evaluation.spend.dataStatus).toBe('ok');
  expect(second.projects[0]?.evaluation.level).toBe('cut');
  expect(cutRequests()).toHaveLength(2);
});

it('AWS check retries partial cut', async () => {
  guard = await startGuard({
    scenario: {
      projects: [
        {
          name: 'sandbox',
          costs: { hourly: hourly(RUN_AT + HOUR_MS, 16, 10_000) },
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
  const { sim, projectId } = guard;
  const id = projectId('sandbox');

  await guard.check(RUN_AT, { cuts: eventCutRequester });
  sim.addFault({
    route: 'quota.patch',
    region: 'ru-1',
    times: 1,
    failEntries: [{ resource: 'compute_cores', zone: 'ru-1b' }],
  });
  expect(await deliver(cutRequests()[0]!, RUN_AT)).toEqual(['partial']);
  expect(sim.quotaValues(id)['ru-1/ru-1b/compute_cores']?.value).toBe(16);

  const second = await guard.check(RUN_AT + HOUR_MS, {
    cuts: eventCutRequester,
  });
  // The partial cut reopened the request, so the next run requests it again.
  expect(second.projects[0]?.action?.status).toBe('requested');
  expect(cutRequests()).toHaveLength(2);
});
