import { afterEach, describe, expect, it } from 'vitest';
import { EVENTS } from '../../lib/notify/port.js';
import type { ActionRequest } from '../../lib/quota/types.js';
import type { ScenarioInput } from '../../sim/scenario.js';
import { HOUR_MS, hourly, startGuard } from '../helpers/guard.js';
import { recordingLog } from '../helpers/mock-http.js';

const RUN_AT = Date.parse('2026-12-10T12:00:00Z');

/** Quotas in two regions and three zones, zonal and region-wide. */
const QUOTAS = {
  'ru-1': {
    compute_cores: [
      { zone: 'ru-1a', value: 48, used: 32 },
      { zone: 'ru-1b', value: 16, used: 4 },
    ],
    compute_ram: [
      { zone: 'ru-1a', value: 196_608, used: 131_072 },
      { zone: 'ru-1b', value: 65_536, used: 16_384 },
    ],
    image_gigabytes: [{ value: 500, used: 120 }],
    network_floatingips: [{ value: 8, used: 3 }],
  },
  'ru-3': {
    compute_cores: [{ zone: 'ru-3a', value: 24, used: 8 }],
    volume_gigabytes_fast: [{ zone: 'ru-3a', value: 1_000, used: 0 }],
    network_floatingips: [{ value: 4, used: 1 }],
  },
};

function scenario(extra: Partial<ScenarioInput> = {}): ScenarioInput {
  return {
    projects: [
      {
        name: 'sandbox',
        costs: { hourly: hourly(RUN_AT, 15, 10_000) },
        quotas: QUOTAS,
      },
      {
        name: 'prod',
        costs: { hourly: hourly(RUN_AT, 15, 10_000) },
        quotas: QUOTAS,
      },
    ],
    ...extra,
  };
}

const cut = (extra: Partial<ActionRequest> = {}): ActionRequest => ({
  action: 'cut',
  project: 'sandbox',
  source: 'cli',
  actor: 'tester',
  reason: 'test',
  ...extra,
});

describe('QuotaActions', () => {
  let guard: Awaited<ReturnType<typeof startGuard>> | undefined;
  afterEach(async () => {
    await guard?.close();
    guard = undefined;
  });

  async function setup(extra: Partial<ScenarioInput> = {}) {
    guard = await startGuard({
      scenario: scenario(extra),
      budgets: { projects: { sandbox: {}, prod: { action: 'none' } } },
    });
    return guard;
  }

  it('restores every quota after a cut and a duplicate cut', async () => {
    const { actions, sim, store, projectId } = await setup();
    const id = projectId('sandbox');
    const before = sim.quotaValues(id);

    const first = await actions.execute(cut());
    const afterCut = sim.quotaValues(id);
    const duplicate = await actions.execute(cut());
    const patchesAfterDuplicate = sim.requestsTo('quota.patch').length;
    const restore = await actions.execute({ ...cut(), action: 'restore' });
    const snapshot = await store.getSnapshot(id);

    expect(first.status).toBe('done');
    expect(first.changes).toHaveLength(9);
    expect(afterCut['ru-1/ru-1a/compute_cores']?.value).toBe(32);
    expect(afterCut['ru-3/-/network_floatingips']?.value).toBe(1);
    expect(duplicate.status).toBe('done');
    expect(duplicate.changes).toEqual([]);
    expect(duplicate.snapshot?.snapshotId).toBe(first.snapshot?.snapshotId);
    expect(patchesAfterDuplicate).toBe(2);
    expect(restore.status).toBe('done');
    expect(sim.quotaValues(id)).toEqual(before);
    expect(snapshot?.status).toBe('restored');
    expect(
      snapshot?.quotas.find(
        (quota) => quota.zone === 'ru-1a' && quota.resource === 'compute_cores',
      )?.value,
    ).toBe(48);
  });

  it('sets quotas to zero in zero mode', async () => {
    const { actions, sim, projectId } = await setup();

    const result = await actions.execute(cut({ mode: 'zero' }));
    const values = Object.values(sim.quotaValues(projectId('sandbox'))).map(
      (quota) => quota.value,
    );

    expect(result.status).toBe('done');
    expect(values.every((value) => value === 0)).toBe(true);
  });

  it('retries only the entries a 207 did not apply', async () => {
    const { actions, sim } = await setup({
      faults: [
        {
          route: 'quota.patch',
          region: 'ru-1',
          times: 1,
          failEntries: [{ resource: 'compute_cores', zone: 'ru-1b' }],
        },
      ],
    });

    const partial = await actions.execute(cut());
    const retry = await actions.execute(cut());
    const patches = sim.requestsTo('quota.patch');

    expect(partial.status).toBe('partial');
    expect(partial.changes.filter((change) => !change.ok)).toEqual([
      expect.objectContaining({
        region: 'ru-1',
        zone: 'ru-1b',
        resource: 'compute_cores',
        error: 'backend failed to apply the quota',
      }),
    ]);
    expect(partial.snapshot?.cutPending).toEqual([
      { region: 'ru-1', zone: 'ru-1b', resource: 'compute_cores', value: 4 },
    ]);
    expect(retry.status).toBe('done');
    expect(patches).toHaveLength(3);
    expect(patches[2]?.body).toEqual({
      quotas: { compute_cores: [{ zone: 'ru-1b', value: 4 }] },
    });
    expect(retry.snapshot?.snapshotId).toBe(partial.snapshot?.snapshotId);
  });

  it('reports a PATCH below used as failed entries', async () => {
    const { actions, sim, projectId } = await setup({
      quotaRules: { rejectBelowUsed: true },
    });
    const id = projectId('sandbox');

    const result = await actions.execute(cut({ mode: 'zero' }));
    const failed = result.changes.filter((change) => !change.ok);

    expect(result.status).toBe('partial');
    expect(failed.length).toBeGreaterThan(0);
    expect(
      failed.every((change) => /below used/.test(change.error ?? '')),
    ).toBe(true);
    expect(
      result.changes.find(
        (change) => change.resource === 'volume_gigabytes_fast',
      ),
    ).toMatchObject({ ok: true, after: 0 });
    expect(sim.quotaValues(id)['ru-1/ru-1a/compute_cores']?.value).toBe(48);
    expect(guard?.notifier.sent.at(-1)?.subject).toMatch(/CUT PARTIAL sandbox/);
  });

  it('sends no PATCH and writes nothing in a dry run', async () => {
    const { actions, sim, store, projectId } = await setup();

    const result = await actions.execute(cut({ dryRun: true }));

    expect(result.dryRun).toBe(true);
    expect(result.changes).toHaveLength(9);
    expect(result.changes[0]).toMatchObject({ before: 48, after: 32 });
    expect(sim.requestsTo('quota.patch')).toEqual([]);
    expect(await store.getSnapshot(projectId('sandbox'))).toBeUndefined();
    expect(await store.listAudit(projectId('sandbox'))).toEqual([]);
    expect(guard?.notifier.sent).toEqual([]);
  });

  it('refuses a protected project before reading quotas', async () => {
    const { actions, sim } = await setup();

    const result = await actions.execute(cut({ project: 'prod' }));

    expect(result.status).toBe('refused');
    expect(sim.requestsTo('quota.get')).toEqual([]);
    expect(sim.requestsTo('quota.patch')).toEqual([]);
  });

  it('reports a refused restore and retries only that part', async () => {
    const { actions, sim, projectId } = await setup();
    const id = projectId('sandbox');
    const before = sim.quotaValues(id);
    await actions.execute(cut());
    sim.scenario.quotaRules.rejectIncrease = true;
    sim.addFault({
      route: 'quota.patch',
      region: 'ru-3',
      times: 1,
      status: 400,
    });

    const refused = await actions.execute({ ...cut(), action: 'restore' });
    sim.scenario.quotaRules.rejectIncrease = false;
    const retried = await actions.execute({ ...cut(), action: 'restore' });

    expect(refused.status).toBe('failed');
    expect(refused.changes.every((change) => !change.ok)).toBe(true);
    expect(
      refused.changes.find((change) => change.region === 'ru-1')?.error,
    ).toMatch(/not enough free quota/);
    expect(refused.snapshot?.status).toBe('active');
    expect(refused.snapshot?.restorePending).toHaveLength(9);
    expect(retried.status).toBe('done');
    expect(sim.quotaValues(id)).toEqual(before);
  });

  it('applies one request id once', async () => {
    const { actions, sim } = await setup();

    const first = await actions.execute(cut({ requestId: 'req-1' }));
    const repeat = await actions.execute(cut({ requestId: 'req-1' }));

    expect(repeat.replayed).toBe(true);
    expect(repeat.status).toBe(first.status);
    expect(repeat.changes).toEqual(first.changes);
    expect(sim.requestsTo('quota.patch')).toHaveLength(2);
  });

  it('rejects a request id reused for another request', async () => {
    const { actions } = await setup();
    await actions.execute(cut({ requestId: 'req-2' }));

    const otherProject = actions.execute(
      cut({ requestId: 'req-2', project: 'prod' }),
    );
    const otherAction = actions.execute({
      ...cut({ requestId: 'req-2' }),
      action: 'restore',
    });

    await expect(otherProject).rejects.toMatchObject({
      code: 'request_id_conflict',
    });
    await expect(otherAction).rejects.toThrow(
      /request id "req-2" was already used for cut of project sandbox/,
    );
  });

  it('keeps a cut done when its audit write keeps failing', async () => {
    const log = recordingLog();
    guard = await startGuard({
      scenario: scenario(),
      budgets: { projects: { sandbox: {}, prod: { action: 'none' } } },
      log,
    });
    guard.store.appendAudit = async () => {
      throw new Error('state store unavailable');
    };

    const result = await guard.actions.execute(cut());

    expect(result.status).toBe('done');
    expect(
      log.lines.some(
        (line) =>
          line.includes('writing the audit entry failed') &&
          line.includes('"before":48'),
      ),
    ).toBe(true);
  });

  it('applies two concurrent cuts once', async () => {
    const { actions, sim, store, projectId } = await setup();

    const results = await Promise.all([
      actions.execute(cut()),
      actions.execute(cut()),
    ]);
    const statuses = results.map((result) => result.status).sort();
    const snapshot = await store.getSnapshot(projectId('sandbox'));

    expect(statuses).toEqual(['done', 'skipped']);
    expect(sim.requestsTo('quota.patch')).toHaveLength(2);
    expect(
      snapshot?.quotas.find(
        (quota) =>
          quota.region === 'ru-3' && quota.resource === 'compute_cores',
      )?.value,
    ).toBe(24);
  });

  it('skips an automatic cut when spend fell below the cut level', async () => {
    const { actions, sim } = await setup();

    const result = await actions.execute(
      cut({
        source: 'event',
        period: 'day:2026-12-10',
        asOfMs: RUN_AT - 5 * HOUR_MS,
      }),
    );

    expect(result.status).toBe('skipped');
    expect(result.reason).toMatch(/at level .* below its cut level/);
    expect(sim.requestsTo('quota.patch')).toEqual([]);
  });

  it('skips an automatic cut on stale data', async () => {
    const { actions, sim } = await setup();

    const result = await actions.execute(
      cut({
        source: 'event',
        period: 'day:2026-12-11',
        asOfMs: RUN_AT + 40 * HOUR_MS,
      }),
    );

    expect(result.status).toBe('skipped');
    expect(result.reason).toMatch(/data is stale/);
    expect(sim.requestsTo('quota.patch')).toEqual([]);
  });

  it('cuts automatically when still over with good data', async () => {
    const { actions } = await setup();

    const result = await actions.execute(
      cut({ source: 'event', period: 'day:2026-12-10', asOfMs: RUN_AT }),
    );

    expect(result.status).toBe('done');
  });

  it('finishes a cut interrupted between snapshot and PATCH', async () => {
    const { actions, sim, store, client, projectId } = await setup();
    const id = projectId('sandbox');
    const before = sim.quotaValues(id);
    const read = await client.quotas.read(id);
    // What a process that died right after saving its snapshot leaves behind.
    await store.createSnapshot({
      projectId: id,
      projectName: 'sandbox',
      snapshotId: 'crashed',
      takenAt: new Date(RUN_AT).toISOString(),
      status: 'active',
      mode: 'freeze',
      quotas: read.quotas,
      requestId: 'crashed-request',
      cutStatus: 'applying',
      cutPending: [
        { region: 'ru-1', zone: 'ru-1a', resource: 'compute_cores', value: 32 },
      ],
    });

    const resumed = await actions.execute(cut());
    const restored = await actions.execute({ ...cut(), action: 'restore' });

    expect(resumed.status).toBe('done');
    expect(resumed.snapshot?.snapshotId).toBe('crashed');
    // Nothing was applied before the crash, so every target is sent now.
    expect(resumed.changes).toHaveLength(9);
    expect(
      sim.requestsTo('quota.patch').find((record) => record.region === 'ru-1')
        ?.body,
    ).toMatchObject({
      quotas: {
        compute_cores: expect.arrayContaining([{ zone: 'ru-1a', value: 32 }]),
      },
    });
    expect(restored.status).toBe('done');
    expect(sim.quotaValues(id)).toEqual(before);
  });

  it('audits and notifies every cut and restore', async () => {
    const { actions, store, projectId, notifier } = await setup();

    await actions.execute(cut({ reason: 'runaway GPU servers' }));
    await actions.execute({
      ...cut(),
      action: 'restore',
      actor: 'alice',
      reason: 'budget raised',
    });
    const audit = await store.listAudit(projectId('sandbox'));

    expect(
      audit.map((entry) => [
        entry.action,
        entry.status,
        entry.actor,
        entry.reason,
      ]),
    ).toEqual([
      ['restore', 'done', 'alice', 'budget raised'],
      ['cut', 'done', 'tester', 'runaway GPU servers'],
    ]);
    expect(audit[1]?.changes[0]).toMatchObject({
      region: 'ru-1',
      before: 48,
      after: 32,
      ok: true,
    });
    expect(
      notifier.sent.map((notification) => [
        notification.event,
        notification.level,
      ]),
    ).toEqual([
      [EVENTS.quotaCut, 'done'],
      [EVENTS.quotaRestore, 'done'],
    ]);
  });

  it('reports status with snapshot, quotas and audit', async () => {
    const { actions } = await setup();
    await actions.execute(cut());

    const status = await actions.execute({ ...cut(), action: 'status' });

    expect(status.snapshot?.status).toBe('active');
    expect(
      status.current?.find(
        (quota) => quota.zone === 'ru-1a' && quota.resource === 'compute_cores',
      )?.value,
    ).toBe(32);
    expect(status.audit).toHaveLength(1);
  });

  it('names a missing project', async () => {
    const { actions } = await setup();

    await expect(actions.execute(cut({ project: 'nope' }))).rejects.toThrow(
      /project "nope" not found/,
    );
  });

  it('cuts and restores through the legacy resell paths', async () => {
    guard = await startGuard({
      scenario: scenario(),
      budgets: { projects: { sandbox: {}, prod: { action: 'none' } } },
      config: { quotas: { api: 'resell' } },
    });
    const id = guard.projectId('sandbox');
    const before = guard.sim.quotaValues(id);

    const cutResult = await guard.actions.execute(cut());
    const restore = await guard.actions.execute({
      ...cut(),
      action: 'restore',
    });

    expect(cutResult.status).toBe('done');
    expect(guard.sim.requestsTo('resell.quotas.patch')).toHaveLength(2);
    expect(restore.status).toBe('done');
    expect(guard.sim.quotaValues(id)).toEqual(before);
  });
});
