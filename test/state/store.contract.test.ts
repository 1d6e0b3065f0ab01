import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoItemStore } from '../../lib/state/dynamo-items.js';
import { FileItemStore } from '../../lib/state/file-items.js';
import type { ItemStore } from '../../lib/state/items.js';
import { StateStore } from '../../lib/state/store.js';
import type { Snapshot } from '../../lib/state/types.js';
import { startDynalite } from '../helpers/dynamo.js';

type Factory = {
  name: string;
  make: () => Promise<ItemStore>;
  close: () => Promise<void>;
};

const dynamo = (() => {
  let server: Awaited<ReturnType<typeof startDynalite>> | undefined;
  return {
    name: 'DynamoDB (dynalite)',
    async make() {
      server ??= await startDynalite();
      return new DynamoItemStore(await server.createTable(), server.client);
    },
    async close() {
      await server?.close();
    },
  } satisfies Factory;
})();

const files = (() => {
  const folders: string[] = [];
  return {
    name: 'file store',
    async make() {
      const folder = await mkdtemp(join(tmpdir(), 'budget-guard-state-'));
      folders.push(folder);
      return new FileItemStore(folder);
    },
    async close() {
      await Promise.all(
        folders.map((folder) => rm(folder, { recursive: true, force: true })),
      );
    },
  } satisfies Factory;
})();

const NOW = Date.parse('2026-12-04T12:00:00Z');
const claim = (
  overrides: Partial<Parameters<StateStore['claimAlert']>[0]> = {},
) => ({
  subject: 'project#p1',
  period: 'day:2026-12-04',
  rank: 2,
  runId: 'run-1',
  nowMs: NOW,
  leaseMs: 600_000,
  ...overrides,
});

function snapshot(
  overrides: Partial<Snapshot> = {},
): Omit<Snapshot, 'version'> {
  return {
    projectId: 'p1',
    projectName: 'Проект',
    snapshotId: 'snap-1',
    takenAt: '2026-12-04T12:00:00.000Z',
    status: 'active',
    mode: 'freeze',
    quotas: [
      {
        region: 'ru-1',
        zone: 'ru-1a',
        resource: 'compute_cores',
        value: 20,
        used: 12,
      },
    ],
    requestId: 'req-1',
    cutStatus: 'applying',
    cutPending: [],
    ...overrides,
  };
}

describe.each([dynamo, files])('StateStore on $name', (factory) => {
  let store: StateStore;
  beforeEach(async () => {
    store = new StateStore(await factory.make());
  });
  afterAll(() => factory.close());

  it('grants the first claim of a period and level only', async () => {
    const first = await store.claimAlert(claim());
    const second = await store.claimAlert(claim({ runId: 'run-2' }));

    expect(first).toBe(true);
    expect(second).toBe(false);
  });

  it('grants a higher level after a lower one', async () => {
    await store.claimAlert(claim({ rank: 1 }));

    const higher = await store.claimAlert(claim({ rank: 3, runId: 'run-2' }));
    const lower = await store.claimAlert(claim({ rank: 2, runId: 'run-3' }));

    expect(higher).toBe(true);
    expect(lower).toBe(false);
  });

  it('grants one of ten concurrent claims', async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, index) =>
        store.claimAlert(claim({ runId: `run-${index}` })),
      ),
    );

    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('reclaims a failed send and a pending one past its lease', async () => {
    await store.claimAlert(claim());
    await store.settleAlert('project#p1', 'day:2026-12-04', 'run-1', 'failed');
    const afterFailure = await store.claimAlert(claim({ runId: 'run-2' }));
    const withinLease = await store.claimAlert(
      claim({ runId: 'run-3', nowMs: NOW + 60_000 }),
    );
    const pastLease = await store.claimAlert(
      claim({ runId: 'run-4', nowMs: NOW + 700_000 }),
    );

    expect(afterFailure).toBe(true);
    expect(withinLease).toBe(false);
    expect(pastLease).toBe(true);
  });

  it('keeps a sent claim settled', async () => {
    await store.claimAlert(claim());
    await store.settleAlert('project#p1', 'day:2026-12-04', 'run-1', 'sent');

    const later = await store.claimAlert(
      claim({ runId: 'run-2', nowMs: NOW + 86_400_000 }),
    );
    const record = await store.getAlert('project#p1', 'day:2026-12-04', NOW);

    expect(later).toBe(false);
    expect(record?.status).toBe('sent');
  });

  it('treats an expired mark as absent', async () => {
    await store.claimAlert(claim());
    await store.settleAlert('project#p1', 'day:2026-12-04', 'run-1', 'sent');

    const muchLater = await store.claimAlert(
      claim({ runId: 'run-2', nowMs: NOW + 90 * 86_400_000 }),
    );

    expect(muchLater).toBe(true);
  });

  it('never replaces an active snapshot', async () => {
    const first = await store.createSnapshot(snapshot());
    const second = await store.createSnapshot(
      snapshot({
        snapshotId: 'snap-2',
        quotas: [
          {
            region: 'ru-1',
            zone: 'ru-1a',
            resource: 'compute_cores',
            value: 12,
            used: 12,
          },
        ],
      }),
    );
    const stored = await store.getSnapshot('p1');

    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    expect(second.snapshot.snapshotId).toBe('snap-1');
    expect(stored?.quotas[0]?.value).toBe(20);
  });

  it('creates one of five concurrent snapshots', async () => {
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, index) =>
        store.createSnapshot(snapshot({ snapshotId: `snap-${index}` })),
      ),
    );
    const winners = results.filter((result) => result.created);
    const ids = new Set(results.map((result) => result.snapshot.snapshotId));

    expect(winners).toHaveLength(1);
    expect(ids.size).toBe(1);
  });

  it('archives a restored snapshot before a new cut', async () => {
    const { snapshot: first } = await store.createSnapshot(snapshot());
    await store.updateSnapshot(first, {
      status: 'restored',
      restoredAt: '2026-12-05T00:00:00.000Z',
    });

    const second = await store.createSnapshot(
      snapshot({ snapshotId: 'snap-2', takenAt: '2026-12-06T00:00:00.000Z' }),
    );
    const history = await store.snapshotHistory('p1');

    expect(second.created).toBe(true);
    expect(history.map((item) => [item.snapshotId, item.status])).toEqual([
      ['snap-1', 'restored'],
    ]);
  });

  it('updates a snapshot only from the version read', async () => {
    const { snapshot: first } = await store.createSnapshot(snapshot());

    const updated = await store.updateSnapshot(first, { cutStatus: 'done' });
    const stale = await store.updateSnapshot(first, { cutStatus: 'failed' });

    expect(updated?.cutStatus).toBe('done');
    expect(stale).toBeUndefined();
    expect((await store.getSnapshot('p1'))?.cutStatus).toBe('done');
  });

  it('lists audit entries newest first', async () => {
    for (const minute of ['01', '03', '02']) {
      await store.appendAudit({
        at: `2026-12-04T12:${minute}:00.000Z`,
        projectId: 'p1',
        projectName: 'Проект',
        action: 'cut',
        source: 'cli',
        actor: 'test',
        reason: `entry ${minute}`,
        requestId: `r-${minute}`,
        status: 'done',
        dryRun: false,
        changes: [],
      });
    }

    const entries = await store.listAudit('p1', 2);

    expect(entries.map((entry) => entry.reason)).toEqual([
      'entry 03',
      'entry 02',
    ]);
  });

  it('holds a lock for one owner until it expires', async () => {
    const first = await store.acquireLock('project#p1', 'a', NOW, 60_000);
    const second = await store.acquireLock(
      'project#p1',
      'b',
      NOW + 1_000,
      60_000,
    );
    const afterExpiry = await store.acquireLock(
      'project#p1',
      'b',
      NOW + 61_000,
      60_000,
    );
    await store.releaseLock('project#p1', 'a');
    const stillB = await store.acquireLock(
      'project#p1',
      'c',
      NOW + 62_000,
      60_000,
    );

    expect(first).toBe(true);
    expect(second).toBe(false);
    expect(afterExpiry).toBe(true);
    expect(stillB).toBe(false);
  });

  it('stores a request result once', async () => {
    const first = await store.putResult(
      'req-1',
      { status: 'done' },
      NOW,
      3_600_000,
    );
    const second = await store.putResult(
      'req-1',
      { status: 'failed' },
      NOW,
      3_600_000,
    );

    expect(first).toBe(true);
    expect(second).toBe(false);
    expect(await store.getResult('req-1', NOW)).toEqual({ status: 'done' });
  });

  it('hands a queued notification to one run at a time', async () => {
    const notification = {
      event: 'quota.cut' as const,
      project: { id: 'p1', name: 'Проект' },
      level: 'done',
      subject: 'CUT DONE',
      text: 'text',
      data: { event: 'quota.cut' },
    };
    await store.queue.add(notification, NOW);

    const [a, b] = await Promise.all([
      store.queue.claim('run-a', NOW, 600_000),
      store.queue.claim('run-b', NOW, 600_000),
    ]);
    const claimed = [...a, ...b];
    await store.queue.settle(claimed[0]!, false);
    const again = await store.queue.claim('run-c', NOW + 1_000, 600_000);
    await store.queue.settle(again[0]!, true);
    const empty = await store.queue.claim('run-d', NOW + 2_000, 600_000);

    expect(claimed).toHaveLength(1);
    expect(claimed[0]?.notification).toEqual(notification);
    expect(again.map((item) => item.attempts)).toEqual([2]);
    expect(empty).toEqual([]);
  });

  it('remembers a one-time key until it expires', async () => {
    const first = await store.rememberOnce('sig-1', NOW, 600_000);
    const replay = await store.rememberOnce('sig-1', NOW + 1_000, 600_000);
    const expired = await store.rememberOnce('sig-1', NOW + 700_000, 600_000);

    expect([first, replay, expired]).toEqual([true, false, true]);
  });
});

describe('FileItemStore across processes', () => {
  let folder: string;
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'budget-guard-procs-'));
  });
  afterAll(() => rm(folder, { recursive: true, force: true }));

  it('lets one of four processes claim an alert', async () => {
    const { spawn } = await import('node:child_process');
    const { fileURLToPath } = await import('node:url');
    const moduleUrl = new URL('../../dist/lib/state/index.js', import.meta.url);
    const script = `
      const { FileItemStore, StateStore } = await import(${JSON.stringify(moduleUrl.href)});
      const store = new StateStore(new FileItemStore(${JSON.stringify(folder)}));
      const won = await store.claimAlert({ subject: 'project#p1', period: 'day:2026-12-04', rank: 2, runId: String(process.pid), nowMs: ${NOW}, leaseMs: 600000 });
      process.stdout.write(won ? 'won' : 'lost');
    `;
    const run = () =>
      new Promise<string>((resolve, reject) => {
        const child = spawn(
          process.execPath,
          ['--input-type=module', '-e', script],
          {
            cwd: fileURLToPath(new URL('../..', import.meta.url)),
          },
        );
        let output = '';
        let errors = '';
        child.stdout.on(
          'data',
          (chunk: Buffer) => (output += chunk.toString()),
        );
        child.stderr.on(
          'data',
          (chunk: Buffer) => (errors += chunk.toString()),
        );
        child.on('close', (code) =>
          code === 0
            ? resolve(output)
            : reject(
                new Error(`child failed (run npm run build first): ${errors}`),
              ),
        );
      });

    const outputs = await Promise.all([run(), run(), run(), run()]);

    expect(outputs.filter((output) => output === 'won')).toHaveLength(1);
    expect(outputs.filter((output) => output === 'lost')).toHaveLength(3);
  });
});
