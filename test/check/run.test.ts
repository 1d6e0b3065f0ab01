import { afterEach, describe, expect, it } from 'vitest';
import { eventCutRequester } from '../../lib/check/cut-request.js';
import { checkReport, checkTable } from '../../lib/check/report.js';
import { EVENTS } from '../../lib/notify/port.js';
import { cleanSubject } from '../../lib/notify/subject.js';
import { FileItemStore } from '../../lib/state/file-items.js';
import { StateStore } from '../../lib/state/store.js';
import { startGuard, hourly, HOUR_MS } from '../helpers/guard.js';

// 15:00 in Moscow on the 10th: the local day started 15 hours earlier.
const RUN_AT = Date.parse('2026-12-10T12:00:00Z');

const calm = { name: 'calm', costs: { hourly: hourly(RUN_AT, 48, 1_000) } };
// 900 rubles today: over the warning level of 800, under the limit.
const warm = { name: 'warm', costs: { hourly: hourly(RUN_AT, 15, 6_000) } };
// 15 hours today at 100 rubles: 1500 rubles, over the cut level of 1200.
const hungry = {
  name: 'hungry',
  costs: { hourly: hourly(RUN_AT, 15, 10_000) },
  quotas: {
    'ru-1': { compute_cores: [{ zone: 'ru-1a', value: 40, used: 10 }] },
    'ru-3': { compute_cores: [{ zone: 'ru-3a', value: 8, used: 2 }] },
  },
};

describe('runCheck', () => {
  let guard: Awaited<ReturnType<typeof startGuard>> | undefined;
  afterEach(async () => {
    await guard?.close();
    guard = undefined;
  });

  it('sends each crossing once across reruns', async () => {
    guard = await startGuard({
      scenario: {
        projects: [calm, warm],
      },
      budgets: { projects: { calm: {}, warm: {} } },
    });

    const first = await guard.check(RUN_AT);
    const second = await guard.check(RUN_AT);

    expect(guard.notifier.subjects()).toEqual([
      '[budget-guard] WARN warm: day 2026-12-10 900.00/1 000.00 RUB',
    ]);
    expect(
      first.projects.flatMap((project) => project.notifications),
    ).toHaveLength(1);
    expect(second.projects.flatMap((project) => project.notifications)).toEqual(
      [],
    );
    expect(second.errors).toBe(0);
  });

  it('sends a higher level of the same period', async () => {
    guard = await startGuard({
      scenario: {
        projects: [
          {
            name: 'rising',
            costs: { hourly: hourly(RUN_AT - 5 * HOUR_MS, 10, 8_500) },
          },
        ],
      },
      budgets: { projects: { rising: {} } },
    });
    guard.sim.state.projects
      .values()
      .next()
      .value!.series.get('ru-3')!
      .addHour(RUN_AT - 2 * HOUR_MS, 20_000);

    await guard.check(RUN_AT - 4 * HOUR_MS);
    await guard.check(RUN_AT);

    expect(
      guard.notifier.sent.map((notification) => notification.level),
    ).toEqual(['warn', 'over']);
  });

  it('sends each notification once from two concurrent runs', async () => {
    guard = await startGuard({
      scenario: {
        projects: [calm, hungry, warm],
      },
      budgets: { projects: { calm: {}, hungry: {}, warm: {} } },
    });
    const otherStore = new StateStore(
      new FileItemStore(`${guard.folder}/state`),
    );

    const [a, b] = await Promise.all([
      guard.check(RUN_AT),
      guard.check(RUN_AT, { store: otherStore }),
    ]);
    const crossings = guard.notifier.sent.filter(
      (notification) => notification.event !== EVENTS.quotaCut,
    );

    expect(
      crossings.map((notification) => notification.subject).sort(),
    ).toEqual([
      '[budget-guard] CUT hungry: day 2026-12-10 1 500.00/1 000.00 RUB',
      '[budget-guard] WARN warm: day 2026-12-10 900.00/1 000.00 RUB',
    ]);
    expect(
      a.projects.flatMap((p) => p.notifications).length +
        b.projects.flatMap((p) => p.notifications).length,
    ).toBe(2);
    expect(
      guard.sim
        .requestsTo('quota.patch')
        .filter((record) => record.status === 200),
    ).toHaveLength(2);
  });

  it('finishes the others when one project fails', async () => {
    guard = await startGuard({
      scenario: {
        projects: [
          calm,
          { name: 'broken', costs: { hourly: hourly(RUN_AT, 10, 1_000) } },
        ],
        faults: [{ route: 'gnocchi.aggregates', status: 503 }],
      },
      budgets: { projects: { calm: {}, broken: {} } },
    });
    guard.sim.addFault({
      route: 'gnocchi.measures',
      project: guard.projectId('broken'),
      status: 500,
    });

    const result = await guard.check(RUN_AT);
    const byName = Object.fromEntries(
      result.projects.map((project) => [project.evaluation.name, project]),
    );

    expect(byName.calm?.evaluation.spend.dataStatus).toBe('ok');
    expect(byName.calm?.evaluation.periods[1]?.spentKopecks).toBe(15 * 1_000);
    expect(byName.broken?.evaluation.spend.dataStatus).toBe('error');
    expect(byName.broken?.error).toMatch(/server_error/);
    expect(result.errors).toBe(1);
  });

  it('cuts a project over its cut level once', async () => {
    guard = await startGuard({
      scenario: { projects: [hungry] },
      budgets: { projects: { hungry: {} } },
    });
    const id = guard.projectId('hungry');

    const first = await guard.check(RUN_AT);
    const second = await guard.check(RUN_AT);

    expect(first.projects[0]?.action).toMatchObject({
      type: 'cut',
      mode: 'freeze',
      status: 'done',
    });
    expect(guard.sim.quotaValues(id)['ru-1/ru-1a/compute_cores']).toEqual({
      value: 10,
      used: 10,
    });
    expect(guard.sim.quotaValues(id)['ru-3/ru-3a/compute_cores']).toEqual({
      value: 2,
      used: 2,
    });
    expect(guard.sim.requestsTo('quota.patch')).toHaveLength(2);
    expect(second.projects[0]?.action).toMatchObject({ status: 'done' });
    expect(second.projects[0]?.notifications).toEqual([]);
  });

  it('never cuts on stale data', async () => {
    // Three hours of 500 rubles early yesterday (local), nothing since: the
    // newest bucket started 37 hours before the run.
    const stale = {
      ...hungry,
      name: 'stale',
      costs: { hourly: hourly(RUN_AT - 36 * HOUR_MS, 3, 50_000) },
    };
    guard = await startGuard({
      scenario: { projects: [stale] },
      budgets: { projects: { stale: {} } },
    });

    const result = await guard.check(RUN_AT);

    expect(result.projects[0]?.evaluation.spend.dataStatus).toBe('stale');
    expect(result.projects[0]?.evaluation.level).toBe('cut');
    expect(result.projects[0]?.action).toMatchObject({ status: 'skipped' });
    expect(guard.sim.requestsTo('quota.patch')).toEqual([]);
    expect(
      guard.notifier.sent.map((notification) => notification.event),
    ).toContain(EVENTS.dataQuality);
  });

  it('refuses to cut a protected project', async () => {
    guard = await startGuard({
      scenario: { projects: [hungry] },
      budgets: { projects: { hungry: { action: 'none' } } },
    });

    const result = await guard.check(RUN_AT);

    expect(result.projects[0]?.action).toMatchObject({ status: 'refused' });
    expect(guard.sim.requestsTo('quota.patch')).toEqual([]);
    expect(guard.sim.requestsTo('quota.get')).toEqual([]);
  });

  it('waits for approval under manual approval', async () => {
    guard = await startGuard({
      scenario: { projects: [hungry] },
      budgets: { projects: { hungry: { approval: 'manual' } } },
    });

    const result = await guard.check(RUN_AT);
    const pending = await guard.store.getPendingApproval(
      guard.projectId('hungry'),
    );

    expect(result.projects[0]?.action).toMatchObject({
      status: 'pending_approval',
    });
    expect(guard.notifier.sent[0]?.event).toBe(EVENTS.cutPending);
    expect(pending).toMatchObject({
      period: 'day:2026-12-10',
      spentKopecks: 150_000,
    });
    expect(guard.sim.requestsTo('quota.patch')).toEqual([]);
  });

  it('publishes the cut request as an event in AWS', async () => {
    guard = await startGuard({
      scenario: { projects: [hungry] },
      budgets: { projects: { hungry: {} } },
    });

    const result = await guard.check(RUN_AT, { cuts: eventCutRequester });
    const [message] = guard.notifier.sent;

    expect(result.projects[0]?.action).toMatchObject({
      status: 'requested',
      requestId: `cut:${guard.projectId('hungry')}:day:2026-12-10`,
    });
    expect(message?.event).toBe(EVENTS.cutRequested);
    expect(message?.data).toMatchObject({
      event: 'budget.cut_requested',
      project: { id: guard.projectId('hungry'), name: 'hungry' },
      period: { kind: 'day', key: '2026-12-10' },
      action: {
        mode: 'freeze',
        requestId: `cut:${guard.projectId('hungry')}:day:2026-12-10`,
      },
    });
    expect(guard.sim.requestsTo('quota.patch')).toEqual([]);
  });

  it('retries a cut request whose publish failed', async () => {
    guard = await startGuard({
      scenario: { projects: [hungry] },
      budgets: { projects: { hungry: {} } },
    });
    guard.notifier.failing = true;

    const failed = await guard.check(RUN_AT, { cuts: eventCutRequester });
    guard.notifier.failing = false;
    const retried = await guard.check(RUN_AT, { cuts: eventCutRequester });

    expect(failed.projects[0]?.action).toMatchObject({ status: 'failed' });
    expect(failed.projects[0]?.notifications[0]?.error).toMatch(
      /SNS is unavailable/,
    );
    expect(failed.errors).toBe(2);
    expect(retried.projects[0]?.action).toMatchObject({ status: 'requested' });
    expect(
      guard.notifier.sent.map((notification) => notification.event),
    ).toEqual([EVENTS.cutRequested]);
  });

  it('warns once about a project missing from the config', async () => {
    guard = await startGuard({ scenario: { projects: [calm] } });

    const first = await guard.check(RUN_AT);
    const second = await guard.check(RUN_AT);

    expect(first.warnings).toEqual([expect.stringContaining('calm')]);
    expect(second.warnings).toEqual(first.warnings);
    expect(
      guard.notifier.sent.map((notification) => notification.event),
    ).toEqual([EVENTS.projectUnlisted]);
  });

  it('notifies missing data once per day', async () => {
    guard = await startGuard({
      scenario: {
        projects: [
          { name: 'silent', costs: { hourly: [] } },
          { name: 'unmetered', missingMetric: true },
        ],
      },
      budgets: { projects: { silent: {}, unmetered: {} } },
    });

    await guard.check(RUN_AT);
    await guard.check(RUN_AT + HOUR_MS);
    await guard.check(RUN_AT + 24 * HOUR_MS);

    const levels = guard.notifier.sent.map(
      (notification) => `${notification.project?.name}:${notification.level}`,
    );
    expect(levels.sort()).toEqual([
      'silent:no_data',
      'silent:no_data',
      'unmetered:no_data',
      'unmetered:no_data',
    ]);
  });

  it('reports missing data as null, not zero', async () => {
    guard = await startGuard({
      scenario: { projects: [{ name: 'silent', costs: { hourly: [] } }] },
      budgets: { projects: { silent: {} } },
    });

    const result = await guard.check(RUN_AT);
    const [report] = checkReport(result).projects;
    const table = checkTable(result);

    expect(report?.dataStatus).toBe('no_data');
    expect(report?.days.map((day) => day.spent)).toEqual([null, null]);
    expect(report?.month.spent).toBeNull();
    expect(report?.month.forecast).toBeNull();
    expect(table).toMatch(
      /silent\s+no_data\s+- \/ 1 000\.00\s+- \/ 1 000\.00\s+- \/ 20 000\.00/,
    );
  });

  it('notifies the account budget without cutting', async () => {
    guard = await startGuard({
      scenario: { projects: [hungry, calm] },
      budgets: {
        account: { daily: 1000 },
        projects: { hungry: { action: 'none' }, calm: {} },
      },
    });

    const result = await guard.check(RUN_AT);

    expect(result.account?.level).toBe('over');
    expect(
      result.account?.notifications.map((notification) => notification.subject),
    ).toEqual([
      '[budget-guard] OVER account: day 2026-12-10 1 650.00/1 000.00 RUB',
    ]);
  });

  it('writes and sends nothing in a dry run', async () => {
    guard = await startGuard({
      scenario: { projects: [hungry] },
      budgets: { projects: { hungry: {} } },
    });

    const dry = await guard.check(RUN_AT, { dryRun: true });
    const real = await guard.check(RUN_AT);

    expect(dry.projects[0]?.notifications).toEqual([
      expect.objectContaining({ dryRun: true, level: 'cut' }),
    ]);
    expect(dry.projects[0]?.action).toMatchObject({ status: 'skipped' });
    expect(real.projects[0]?.notifications).toHaveLength(1);
    expect(
      guard.notifier.sent.filter(
        (notification) => notification.event === EVENTS.cutRequested,
      ),
    ).toHaveLength(1);
    expect(guard.sim.requestsTo('quota.patch').length).toBeGreaterThan(0);
  });

  it('reports a failed project listing as fatal', async () => {
    guard = await startGuard({
      scenario: {
        projects: [calm],
        faults: [{ route: 'resell.projects', status: 500 }],
      },
    });

    const result = await guard.check(RUN_AT);

    expect(result.fatal).toMatch(/listing projects failed/);
    expect(result.errors).toBe(1);
    expect(guard.notifier.sent).toEqual([]);
  });

  it('keeps an 80-character Cyrillic name whole in the subject', async () => {
    const name =
      'Проект отдела аналитики данных и машинного обучения для платёжных сервисов банка'.padEnd(
        80,
        'ы',
      );
    guard = await startGuard({
      scenario: {
        projects: [{ name, costs: { hourly: hourly(RUN_AT, 15, 10_000) } }],
      },
      budgets: { projects: { [name]: { action: 'none' } } },
    });

    const [report] = (await guard.check(RUN_AT)).projects;
    const subject = guard.notifier.sent[0]?.subject ?? '';
    const cleaned = report?.notifications[0]?.subject ?? '';

    expect([...name]).toHaveLength(80);
    expect(subject).toContain(name);
    expect(cleaned).toBe(cleanSubject(subject));
    expect(cleaned.length).toBeLessThanOrEqual(99);
    expect(cleaned.endsWith('…')).toBe(true);
    expect(
      name.startsWith(cleaned.slice('[budget-guard] CUT '.length, -1)),
    ).toBe(true);
  });

  it('reads UTC daily buckets as UTC days', async () => {
    guard = await startGuard({
      scenario: {
        projects: [
          {
            name: 'daily',
            costs: {
              daily: [
                ['2026-12-09T00:00:00Z', 50_000],
                ['2026-12-10T00:00:00Z', 30_000],
              ],
            },
          },
        ],
      },
      config: { costs: { granularity: 86_400 } },
      budgets: { projects: { daily: {} } },
    });

    const result = await guard.check(RUN_AT);
    const [yesterday, today] = result.projects[0]?.evaluation.periods ?? [];

    expect(result.dayConvention).toBe(
      'UTC days from daily buckets: a day ends at 03:00 Europe/Moscow',
    );
    expect(yesterday).toMatchObject({
      key: '2026-12-09',
      spentKopecks: 50_000,
      complete: true,
    });
    expect(today).toMatchObject({
      key: '2026-12-10',
      spentKopecks: 30_000,
      complete: false,
    });
  });
});
