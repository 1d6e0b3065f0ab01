import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SNSClient } from '@aws-sdk/client-sns';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { eventCutRequester } from '../../lib/check/cut-request.js';
import { runCheck } from '../../lib/check/run.js';
import type { CheckResult } from '../../lib/check/types.js';
import { main } from '../../lib/cli/main.js';
import { silentLog } from '../../lib/log.js';
import { EVENTS, type Notification } from '../../lib/notify/port.js';
import { SnsNotifier } from '../../lib/notify/sns.js';
import { QuotaActions } from '../../lib/quota/actions.js';
import { localCutRequester } from '../../lib/quota/local-requester.js';
import type { ActionResult } from '../../lib/quota/types.js';
import { FileItemStore } from '../../lib/state/file-items.js';
import type { Condition, Item, ItemStore } from '../../lib/state/items.js';
import { StateStore } from '../../lib/state/store.js';
import type { ScenarioInput } from '../../sim/scenario.js';
import { SelectelSimulator } from '../../sim/server.js';
import { HOUR_MS, hourly, startGuard } from '../helpers/guard.js';
import { SnsStandIn } from '../helpers/sns-standin.js';

type ProjectInput = NonNullable<ScenarioInput['projects']>[number];

// 15:00 in Moscow on the 10th: the local day started 15 hours earlier.
const RUN_AT = Date.parse('2026-12-10T12:00:00Z');
const DAY = '2026-12-10';
const CUT_PERIOD = `day:${DAY}`;
/** Past the 15-minute claim lease and the 5-minute quota lock. */
const LATER_MS = 20 * 60_000;

/** Quotas in two regions, zonal and region-wide. */
const QUOTAS = {
  'ru-1': {
    compute_cores: [
      { zone: 'ru-1a', value: 40, used: 10 },
      { zone: 'ru-1b', value: 16, used: 4 },
    ],
    network_floatingips: [{ value: 8, used: 3 }],
  },
  'ru-3': { compute_cores: [{ zone: 'ru-3a', value: 24, used: 8 }] },
};
// 15 hours today at 100 rubles: 1500 rubles, over the cut level of 1200.
const HUNGRY: ProjectInput = {
  name: 'hungry',
  costs: { hourly: hourly(RUN_AT, 15, 10_000) },
  quotas: QUOTAS,
};
// 900 rubles today: over the warning level of 800, under the limit.
const WARM: ProjectInput = {
  name: 'warm',
  costs: { hourly: hourly(RUN_AT, 15, 6_000) },
  quotas: QUOTAS,
};
const CALM: ProjectInput = {
  name: 'calm',
  costs: { hourly: hourly(RUN_AT, 48, 1_000) },
};
const BUDGETS = { projects: { hungry: {}, warm: {}, calm: {} } };
/** Notifications a fault-free run sends, as `project period level`. */
const BASE_NOTICES = [`hungry ${CUT_PERIOD} cut`, `warm ${CUT_PERIOD} warn`];

// ---- observations for docs/reliability.md

interface Observation {
  fault: string;
  expected: string;
  observed: string;
}

const observations = new Map<string, Observation>();
const tableOrder: string[] = [];

/** Registers a row of the reliability table in the order it is declared. */
function row(fault: string, expected: string) {
  tableOrder.push(fault);
  return { fault, expected };
}

function observe(
  entry: { fault: string; expected: string },
  facts: string[],
): void {
  observations.set(entry.fault, { ...entry, observed: facts.join('; ') });
}

afterAll(async () => {
  // A filtered or failing run leaves rows unobserved: keep the committed file.
  if (tableOrder.some((fault) => !observations.has(fault))) return;
  const cell = (text: string) => text.replaceAll('|', '\\|');
  const lines = [
    '# Reliability under Selectel faults',
    '',
    'Written by `test/faults/fault-matrix.test.ts` from what the tests',
    'observed, so edit the test, not this file. Each row runs against the',
    'bundled Selectel simulator with three projects: `hungry` is over its',
    'daily cut level, `warm` over its warning level, `calm` under both.',
    'Unless a row says otherwise, a check runs under the fault, the fault',
    'is cleared, a second check runs, and `hungry` is restored.',
    '',
    'Every row also asserts these invariants:',
    '',
    '- no notification is sent twice per project, period and level;',
    '- none is lost once the fault is gone;',
    '- no quota PATCH goes to a project whose data is not `ok`;',
    '- the snapshot in force keeps the quotas from before the cut;',
    '- a restore puts those quotas back.',
    '',
    '| fault | expected | observed |',
    '|---|---|---|',
    ...tableOrder.map((fault) => {
      const entry = observations.get(fault) as Observation;
      return `| ${cell(entry.fault)} | ${cell(entry.expected)} | ${cell(entry.observed)} |`;
    }),
    '',
  ];
  await writeFile(
    new URL('../../docs/reliability.md', import.meta.url),
    lines.join('\n'),
  );
});

// ---- a state store that fails on demand

/**
 * An `ItemStore` that throws on chosen writes, as an unreachable DynamoDB
 * table would, or dies for good after one write, as a killed process does.
 */
class FaultyItemStore implements ItemStore {
  private rules: {
    matches: (item: Item) => boolean;
    remaining: number;
    writeFirst: boolean;
  }[] = [];
  private dead = false;
  /** Sort keys of the writes that were made to throw. */
  failedKeys: string[] = [];

  constructor(readonly inner: ItemStore) {}

  /** Makes the next `times` matching writes throw without writing. */
  failPut(matches: (item: Item) => boolean, times = 1): void {
    this.rules.push({ matches, remaining: times, writeFirst: false });
  }

  /** Lets the next matching write through, then fails every call after it. */
  dieAfterPut(matches: (item: Item) => boolean): void {
    this.rules.push({ matches, remaining: 1, writeFirst: true });
  }

  heal(): void {
    this.rules = [];
    this.dead = false;
  }

  async get(pk: string, sk: string): Promise<Item | undefined> {
    this.assertAlive();
    return this.inner.get(pk, sk);
  }

  async put(item: Item, condition?: Condition): Promise<boolean> {
    this.assertAlive();
    const rule = this.rules.find(
      (candidate) => candidate.remaining > 0 && candidate.matches(item),
    );
    if (!rule) return this.inner.put(item, condition);
    rule.remaining--;
    this.failedKeys.push(item.sk);
    if (rule.writeFirst) {
      await this.inner.put(item, condition);
      this.dead = true;
      throw new Error('process killed');
    }
    throw new Error('state store unavailable');
  }

  async delete(pk: string, sk: string, condition?: Condition) {
    this.assertAlive();
    return this.inner.delete(pk, sk, condition);
  }

  async query(
    pk: string,
    prefix: string,
    options?: { limit?: number; descending?: boolean },
  ) {
    this.assertAlive();
    return this.inner.query(pk, prefix, options);
  }

  private assertAlive(): void {
    if (this.dead) throw new Error('process killed');
  }
}

// ---- one trial: a guard, its runs and the invariants

interface RunRecord {
  result: CheckResult;
  /** Simulator request log entries served during this run. */
  requests: SelectelSimulator['requests'];
}

interface TrialOptions {
  hungry?: ProjectInput;
  scenario?: Omit<Partial<ScenarioInput>, 'projects'>;
  timeoutMs?: number;
  faultyStore?: boolean;
}

/** Trials started by the running test, closed after it. */
const open: { close(): Promise<void> }[] = [];

/** Starts a guard over the three projects with a recording sleep and, on request, a faulty store. */
async function startTrial(options: TrialOptions = {}) {
  const sleeps: number[] = [];
  const folder = await mkdtemp(join(tmpdir(), 'budget-guard-faults-'));
  const items = new FaultyItemStore(new FileItemStore(join(folder, 'state')));
  const guard = await startGuard({
    scenario: {
      ...options.scenario,
      projects: [options.hungry ?? HUNGRY, WARM, CALM],
    },
    budgets: BUDGETS,
    items: options.faultyStore ? items : undefined,
    http: {
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    },
  });
  const id = guard.projectId('hungry');
  const trial = {
    guard,
    items,
    sleeps,
    id,
    before: guard.sim.quotaValues(id),
    runs: [] as RunRecord[],
    /** Folder of the config and state of command-line runs, once made. */
    cliFolder: undefined as string | undefined,
    /** Runs one check and keeps the requests it made. */
    async check(run: () => Promise<CheckResult> = () => guard.check(RUN_AT)) {
      const from = guard.sim.requests.length;
      const result = await run();
      const record = { result, requests: guard.sim.requests.slice(from) };
      trial.runs.push(record);
      return record.result;
    },
    restore(): Promise<ActionResult> {
      return guard.actions.execute({
        action: 'restore',
        project: 'hungry',
        source: 'cli',
        actor: 'fault-matrix',
        reason: 'restore after the fault',
      });
    },
    /** Clears simulator faults, the failing notifier and the faulty store. */
    recover() {
      guard.sim.clearFaults();
      guard.notifier.failing = false;
      items.heal();
    },
    async close() {
      await guard.close();
      await rm(folder, { recursive: true, force: true });
    },
  };
  open.push(trial);

  return trial;
}
type Trial = Awaited<ReturnType<typeof startTrial>>;

afterEach(async () => {
  for (const trial of open.splice(0)) await trial.close();
});

/** `project period level` of a budget notification; null for quota results. */
function noticeKey(notification: {
  event: string;
  project: { name: string } | null;
  level: string;
  data: Record<string, unknown>;
}): string | null {
  const name = notification.project?.name ?? 'account';
  if (notification.event === EVENTS.dataQuality)
    return `${name} data:${String(notification.data.day)} ${notification.level}`;
  if (notification.event === EVENTS.projectUnlisted)
    return `${name} config ${notification.level}`;
  const period = notification.data.period as
    | { kind: string; key: string }
    | undefined;
  if (!period) return null;

  return `${name} ${period.kind}:${period.key} ${notification.level}`;
}

function countNotices(
  notifications: readonly Parameters<typeof noticeKey>[0][],
): Map<string, number> {
  const counts = new Map<string, number>();
  for (const notification of notifications) {
    const key = noticeKey(notification);
    if (key) counts.set(key, (counts.get(key) ?? 0) + 1);
  }

  return counts;
}

/** Asserts one send per key and that every expected key was sent. */
function expectEachNoticeOnce(
  notifications: readonly Parameters<typeof noticeKey>[0][],
  expected: readonly string[],
): void {
  const counts = countNotices(notifications);
  const repeated = [...counts].filter(([, count]) => count > 1);

  expect(repeated).toEqual([]);
  expect([...counts.keys()].sort()).toEqual([...expected].sort());
}

/** Asserts that no run sent a quota PATCH for a project whose data was not ok. */
function expectNoCutOnMissingData(trial: Trial): void {
  for (const run of trial.runs) {
    const notOk = new Set(
      run.result.projects
        .filter((project) => project.evaluation.spend.dataStatus !== 'ok')
        .map((project) => project.evaluation.id),
    );
    const patched = run.requests
      .filter((record) => record.route === 'quota.patch')
      .map((record) => record.project);

    expect(patched.filter((project) => notOk.has(project ?? ''))).toEqual([]);
  }
}

function valuesOf(
  quotas: Record<string, { value: number; used: number }>,
): Record<string, number> {
  return Object.fromEntries(
    Object.entries(quotas).map(([key, quota]) => [key, quota.value]),
  );
}

/** Asserts that the snapshot in force contains the quotas from before any cut. */
async function expectSnapshotKeepsOriginal(trial: Trial): Promise<string> {
  const snapshot = await trial.guard.store.getSnapshot(trial.id);

  expect(snapshot?.status).toBe('active');
  const saved = Object.fromEntries(
    (snapshot?.quotas ?? []).map((quota) => [
      `${quota.region}/${quota.zone ?? '-'}/${quota.resource}`,
      quota.value,
    ]),
  );
  expect(saved).toEqual(valuesOf(trial.before));

  return snapshot?.snapshotId ?? '';
}

/** Restores `hungry` and asserts that its quotas are back to the start. */
async function expectRestored(trial: Trial): Promise<ActionResult> {
  const restored = await trial.restore();

  expect(restored.status).toBe('done');
  expect(trial.guard.sim.quotaValues(trial.id)).toEqual(trial.before);
  expect((await trial.guard.store.getSnapshot(trial.id))?.status).toBe(
    'restored',
  );

  return restored;
}

function hungryOf(result: CheckResult) {
  const outcome = result.projects.find(
    (project) => project.evaluation.name === 'hungry',
  );
  if (!outcome) throw new Error('no outcome for hungry');

  return outcome;
}

/** Asserts that the run had no errors and cut `hungry` in full. */
function expectCutWithoutErrors(result: CheckResult): void {
  expect(result.errors).toBe(0);
  expect(hungryOf(result).action?.status).toBe('done');
}

function describeRun(result: CheckResult): string {
  const hungry = hungryOf(result);

  return `errors ${result.errors}, hungry data ${hungry.evaluation.spend.dataStatus}, cut ${hungry.action?.status ?? 'none'}`;
}

function patchesIn(run: RunRecord, projectId: string): number {
  return patchBodiesIn(run, projectId).length;
}

function patchBodiesIn(run: RunRecord, projectId: string): unknown[] {
  return run.requests
    .filter(
      (record) =>
        record.route === 'quota.patch' && record.project === projectId,
    )
    .map((record) => record.body);
}

function plural(count: number, singular: string, pluralForm: string): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}

interface StandardRow {
  /** Short name of the fault for the test title. */
  title: string;
  fault: string;
  expected: string;
  options?: TrialOptions;
  /** Sets up faults that need the running simulator or store. */
  arrange?: (trial: Trial) => void;
  /** Row-specific checks of the faulty run; returns extra observed facts. */
  verify: (trial: Trial, first: CheckResult) => string[] | Promise<string[]>;
  /** Row-specific checks of the run after recovery; returns observed facts. */
  verifyRecovery?: (trial: Trial) => string[] | Promise<string[]>;
  /** Extra notices the faulty run legitimately adds, such as data notices. */
  extraNotices?: string[];
  /** The fault stops `hungry` from being cut in the faulty run. */
  blocksCut?: boolean;
}

/**
 * Runs a check under the fault, clears it, runs a second check, then
 * restores, asserting every invariant on the way.
 */
async function standardTrial(spec: StandardRow): Promise<string[]> {
  const trial = await startTrial(spec.options);
  spec.arrange?.(trial);

  const first = await trial.check();
  const facts = [`run 1: ${describeRun(first)}`];
  facts.push(...(await spec.verify(trial, first)));
  const firstSnapshot = await trial.guard.store.getSnapshot(trial.id);
  trial.recover();
  const second = await trial.check();
  facts.push(`run 2: ${describeRun(second)}`);
  facts.push(...((await spec.verifyRecovery?.(trial)) ?? []));

  expectCutWithoutErrors(second);
  if (spec.blocksCut) expect(patchesIn(trial.runs[0]!, trial.id)).toBe(0);
  expectEachNoticeOnce(trial.guard.notifier.sent, [
    ...BASE_NOTICES,
    ...(spec.extraNotices ?? []),
  ]);
  expectNoCutOnMissingData(trial);
  const snapshotId = await expectSnapshotKeepsOriginal(trial);
  if (firstSnapshot) expect(snapshotId).toBe(firstSnapshot.snapshotId);
  await expectRestored(trial);
  facts.push('each notice sent once', 'restore done, quotas as before');

  return facts;
}

// ---- the matrix

const standardRows: StandardRow[] = [
  {
    title: 'no fault',
    ...row('none (baseline)', 'run 1 cuts hungry; nothing to retry'),
    verify(trial, first) {
      expectCutWithoutErrors(first);
      expect(trial.sleeps).toEqual([]);
      return [];
    },
  },
  {
    title: 'latency within the timeout',
    ...row(
      '300 ms latency on every cost, quota and token request; client timeout 2 s',
      'run 1 succeeds with no retry',
    ),
    options: {
      timeoutMs: 2_000,
      scenario: {
        faults: [
          { route: 'gnocchi.aggregates', latencyMs: 300 },
          { route: 'quota.get', latencyMs: 300 },
          { route: 'resell.tokens', latencyMs: 300 },
        ],
      },
    },
    verify(trial, first) {
      expectCutWithoutErrors(first);
      expect(trial.sleeps).toEqual([]);
      return ['no retry'];
    },
  },
  {
    title: 'latency past the timeout',
    ...row(
      '1.5 s latency once on the batch cost read and once on a quota read; client timeout 0.5 s',
      'each timed-out read is retried; run 1 succeeds',
    ),
    options: {
      timeoutMs: 500,
      scenario: {
        faults: [
          { route: 'gnocchi.aggregates', latencyMs: 1_500, times: 1 },
          { route: 'quota.get', region: 'ru-3', latencyMs: 1_500, times: 1 },
        ],
      },
    },
    verify(trial, first) {
      const [run] = trial.runs;
      const aggregates = run!.requests.filter(
        (record) => record.route === 'gnocchi.aggregates',
      );
      const quotaReads = run!.requests.filter(
        (record) => record.route === 'quota.get' && record.region === 'ru-3',
      );

      expectCutWithoutErrors(first);
      expect(aggregates).toHaveLength(2);
      // The cut reads once (timed out, then again) and reads back once.
      expect(quotaReads).toHaveLength(3);
      return [
        `batch cost read sent ${aggregates.length} times`,
        `ru-3 quota read sent ${quotaReads.length} times`,
      ];
    },
  },
  {
    title: '429 with Retry-After',
    ...row(
      '429 with Retry-After: 7 s three times on the batch cost read, 2 s twice on the quota PATCH',
      'the client sleeps as asked (through the injected sleep) and run 1 succeeds',
    ),
    options: {
      scenario: {
        faults: [
          {
            route: 'gnocchi.aggregates',
            status: 429,
            retryAfterSeconds: 7,
            times: 3,
          },
          {
            route: 'quota.patch',
            status: 429,
            retryAfterSeconds: 2,
            times: 2,
          },
        ],
      },
    },
    verify(trial, first) {
      const sleeps = [...trial.sleeps].sort((a, b) => a - b);

      expectCutWithoutErrors(first);
      expect(sleeps).toEqual([2_000, 2_000, 7_000, 7_000, 7_000]);
      return [`sleeps requested ${sleeps.join(', ')} ms`];
    },
  },
  {
    title: '429 past the retry budget',
    ...row(
      '429 with Retry-After 60 s (over the 30 s retry budget) on every batch cost read and on the ru-3 quota PATCH',
      'no 60 s wait; costs come from per-project reads; the cut is partial and named; run 2 sends only the ru-3 entry',
    ),
    options: {
      scenario: {
        faults: [
          { route: 'gnocchi.aggregates', status: 429, retryAfterSeconds: 60 },
          {
            route: 'quota.patch',
            region: 'ru-3',
            status: 429,
            retryAfterSeconds: 60,
          },
        ],
      },
    },
    verify(trial, first) {
      const hungry = hungryOf(first);
      const perProject = trial.runs[0]!.requests.filter(
        (record) => record.route === 'gnocchi.measures',
      );

      expect(trial.sleeps).toEqual([]);
      expect(hungry.evaluation.spend.dataStatus).toBe('ok');
      // One read per project, and one more in the re-check before the cut.
      expect(perProject).toHaveLength(4);
      expect(hungry.action?.status).toBe('partial');
      expect(first.errors).toBe(1);
      return [
        `${perProject.length} per-project cost reads (3 projects and the re-check)`,
        'no sleep',
      ];
    },
    verifyRecovery(trial) {
      const bodies = patchBodiesIn(trial.runs[1]!, trial.id);

      expect(bodies).toEqual([
        { quotas: { compute_cores: [{ zone: 'ru-3a', value: 8 }] } },
      ]);
      return [
        `run 2 sent ${plural(bodies.length, 'PATCH', 'PATCH requests')} with only the ru-3 entry`,
      ];
    },
  },
  {
    title: 'transient 5xx',
    ...row(
      'HTTP 502, 503 and 504 twice each (cost read, quota read, quota PATCH)',
      'retried with backoff; run 1 succeeds',
    ),
    options: {
      scenario: {
        faults: [
          { route: 'gnocchi.aggregates', status: 502, times: 2 },
          { route: 'quota.get', status: 503, times: 2 },
          { route: 'quota.patch', status: 504, times: 2 },
        ],
      },
    },
    verify(trial, first) {
      expectCutWithoutErrors(first);
      expect(trial.sleeps).toHaveLength(6);
      return [`${trial.sleeps.length} retries`];
    },
  },
  {
    title: 'failing cost reads',
    ...row(
      'HTTP 500 on every cost read of hungry (batch and per project) until cleared',
      'hungry is data error, reported and not cut; the others are evaluated; run 2 cuts',
    ),
    arrange(trial) {
      trial.guard.sim.addFault({ route: 'gnocchi.aggregates', status: 500 });
      trial.guard.sim.addFault({
        route: 'gnocchi.measures',
        project: trial.id,
        status: 500,
      });
    },
    extraNotices: [`hungry data:${DAY} error`],
    blocksCut: true,
    verify(_trial, first) {
      const hungry = hungryOf(first);
      const warm = first.projects.find((p) => p.evaluation.name === 'warm');

      expect(hungry.evaluation.spend.dataStatus).toBe('error');
      expect(hungry.error).toMatch(/HTTP 500/);
      expect(warm?.evaluation.spend.dataStatus).toBe('ok');
      expect(first.errors).toBe(1);
      return ['warm and calm evaluated from per-project reads'];
    },
  },
  {
    title: 'failing quota PATCH',
    ...row(
      'quota PATCH fails for good: HTTP 500 in ru-1, 503 in ru-3 (past all retries)',
      'cut failed with the snapshot saved and no quota changed; run 2 retries on the same snapshot',
    ),
    options: {
      scenario: {
        faults: [
          { route: 'quota.patch', region: 'ru-1', status: 500 },
          { route: 'quota.patch', region: 'ru-3', status: 503 },
        ],
      },
    },
    async verify(trial, first) {
      const snapshot = await trial.guard.store.getSnapshot(trial.id);

      expect(hungryOf(first).action?.status).toBe('failed');
      expect(first.errors).toBe(1);
      expect(trial.guard.sim.quotaValues(trial.id)).toEqual(trial.before);
      expect(snapshot?.cutStatus).toBe('failed');
      expect(snapshot?.cutPending).toHaveLength(4);
      return ['no quota changed', 'snapshot kept 4 pending entries'];
    },
  },
  {
    title: 'one dropped connection',
    ...row(
      'connection dropped once on the batch cost read and once on a quota PATCH',
      'retried; run 1 succeeds',
    ),
    options: {
      scenario: {
        faults: [
          { route: 'gnocchi.aggregates', dropConnection: true, times: 1 },
          { route: 'quota.patch', dropConnection: true, times: 1 },
        ],
      },
    },
    verify(trial, first) {
      expectCutWithoutErrors(first);
      expect(trial.sleeps).toHaveLength(2);
      return [`${trial.sleeps.length} retries`];
    },
  },
  {
    title: 'dropped cost reads',
    ...row(
      'connection dropped on every cost read of hungry until cleared',
      'hungry is data error and not cut; run 2 cuts',
    ),
    arrange(trial) {
      trial.guard.sim.addFault({
        route: 'gnocchi.aggregates',
        dropConnection: true,
      });
      trial.guard.sim.addFault({
        route: 'gnocchi.measures',
        project: trial.id,
        dropConnection: true,
      });
    },
    extraNotices: [`hungry data:${DAY} error`],
    blocksCut: true,
    verify(_trial, first) {
      const hungry = hungryOf(first);

      expect(hungry.evaluation.spend.dataStatus).toBe('error');
      expect(hungry.error).toMatch(/network_error/);
      expect(first.errors).toBe(1);
      return [];
    },
  },
  {
    title: 'quota read timeouts',
    ...row(
      'every ru-3 quota read times out (1 s latency, client timeout 0.25 s)',
      'cut failed before any write; run 2 cuts',
    ),
    options: {
      timeoutMs: 250,
      scenario: {
        faults: [{ route: 'quota.get', region: 'ru-3', latencyMs: 1_000 }],
      },
    },
    blocksCut: true,
    async verify(trial, first) {
      const hungry = hungryOf(first);

      expect(hungry.action?.status).toBe('failed');
      expect(hungry.action?.reason).toMatch(/timed out|timeout/i);
      expect(first.errors).toBe(1);
      expect(await trial.guard.store.getSnapshot(trial.id)).toBeUndefined();
      return ['no snapshot, no PATCH'];
    },
  },
  {
    title: 'token expiry',
    ...row(
      'token expires after 5 calls, mid-run',
      'the client takes a new token once and run 1 succeeds',
    ),
    options: {
      scenario: { tokenExpiry: { afterCalls: 5, firstTokens: 1 } },
    },
    verify(trial, first) {
      const rejected = trial.runs[0]!.requests.filter(
        (record) => record.status === 401,
      );

      expectCutWithoutErrors(first);
      expect(rejected.length).toBeGreaterThan(0);
      expect(trial.guard.sim.tokensIssued).toBe(2);
      return [
        `${trial.guard.sim.tokensIssued} tokens issued`,
        'every 401 retried with the new token',
      ];
    },
  },
  {
    title: '207 partial PATCH',
    ...row(
      '207 partial quota PATCH (ru-1/ru-1b compute_cores not applied)',
      'cut partial, failed entry named; run 2 sends only that entry',
    ),
    options: {
      scenario: {
        faults: [
          {
            route: 'quota.patch',
            region: 'ru-1',
            times: 1,
            failEntries: [{ resource: 'compute_cores', zone: 'ru-1b' }],
          },
        ],
      },
    },
    verify(trial, first) {
      const hungry = hungryOf(first);

      expect(hungry.action?.status).toBe('partial');
      expect(hungry.action?.reason ?? '').not.toMatch(/127\.0\.0\.1/);
      expect(first.errors).toBe(1);
      return [];
    },
    verifyRecovery(trial) {
      const bodies = patchBodiesIn(trial.runs[1]!, trial.id);

      expect(bodies).toEqual([
        { quotas: { compute_cores: [{ zone: 'ru-1b', value: 4 }] } },
      ]);
      return [
        `run 2 sent ${plural(bodies.length, 'PATCH', 'PATCH requests')} with only the failed entry`,
      ];
    },
  },
  {
    title: 'gappy series',
    ...row(
      'gaps in the cost series: 3 of today’s 15 hours missing, the rest over the cut level',
      'data ok; the partial sum proves the overrun and run 1 cuts',
    ),
    options: {
      hungry: {
        ...HUNGRY,
        costs: {
          hourly: hourly(RUN_AT, 15, 12_500).filter(
            (_, index) => index < 5 || index > 7,
          ),
        },
      },
    },
    verify(_trial, first) {
      const hungry = hungryOf(first);

      expect(hungry.evaluation.spend.dataStatus).toBe('ok');
      expect(hungry.evaluation.periods[1]?.spentKopecks).toBe(12 * 12_500);
      expect(hungry.action?.status).toBe('done');
      return ['12 of 15 hours summed'];
    },
  },
  {
    title: 'failed claim write',
    ...row(
      'state store write of hungry’s alert claim fails once',
      'hungry reported as failed, no notice and no cut; run 2 sends the notice and cuts',
    ),
    options: { faultyStore: true },
    arrange(trial) {
      trial.items.failPut(
        (item) =>
          item.pk === `project#${trial.id}` &&
          item.sk === `alert#${CUT_PERIOD}`,
      );
    },
    blocksCut: true,
    verify(trial, first) {
      const hungry = hungryOf(first);

      expect(hungry.error).toMatch(/state store unavailable/);
      expect(first.errors).toBeGreaterThanOrEqual(1);
      expect(trial.guard.notifier.sent.map(noticeKey)).not.toContain(
        `hungry ${CUT_PERIOD} cut`,
      );
      expect(trial.items.failedKeys).toEqual([`alert#${CUT_PERIOD}`]);
      return ['the claim write failed once'];
    },
  },
  {
    title: 'failed snapshot write',
    ...row(
      'state store write of the quota snapshot fails once',
      'cut failed before any PATCH; run 2 saves the snapshot and cuts',
    ),
    options: { faultyStore: true },
    arrange(trial) {
      trial.items.failPut((item) => item.sk === 'snapshot');
    },
    blocksCut: true,
    async verify(trial, first) {
      expect(hungryOf(first).action?.status).toBe('failed');
      expect(first.errors).toBe(1);
      expect(await trial.guard.store.getSnapshot(trial.id)).toBeUndefined();
      return ['no snapshot, no PATCH'];
    },
  },
  {
    title: 'failed audit write',
    ...row(
      'state store write of the audit entry fails once, after the PATCH',
      'the audit write is tried again; run 1 reports the cut done and the audit trail holds its changes',
    ),
    options: { faultyStore: true },
    arrange(trial) {
      trial.items.failPut((item) => item.sk.startsWith('audit#'));
    },
    async verify(trial, first) {
      const snapshot = await trial.guard.store.getSnapshot(trial.id);
      const audit = await trial.guard.store.listAudit(trial.id);

      expect(hungryOf(first).action?.status).toBe('done');
      expect(first.errors).toBe(0);
      expect(snapshot?.cutStatus).toBe('done');
      expect(
        trial.items.failedKeys.filter((key) => key.startsWith('audit#')),
      ).toHaveLength(1);
      expect(audit.filter((entry) => entry.changes.length > 0)).toHaveLength(1);
      return ['the audit write failed once and was written on the second try'];
    },
  },
  {
    title: 'failed publishes',
    ...row(
      'every notification publish fails in run 1 (local cuts)',
      'notices reported as failed, the cut goes ahead and its result is queued; run 2 sends each notice once',
    ),
    arrange(trial) {
      trial.guard.notifier.failing = true;
    },
    verify(_trial, first) {
      const failed = first.projects.flatMap((project) =>
        project.notifications.filter((notification) => notification.error),
      );

      expect(failed).toHaveLength(2);
      expect(hungryOf(first).action?.status).toBe('done');
      // Two crossing notices, and the cut result that stays queued.
      expect(first.errors).toBe(3);
      expect(first.queuedNotifications).toEqual({ sent: 0, failed: 1 });
      return [
        `${failed.length} notices failed in run 1; the cut result stayed queued`,
      ];
    },
  },
  {
    title: 'failed re-check read',
    ...row(
      'cost read fails only in the re-check just before the cut (HTTP 500 on per-project reads)',
      'no cut on data that is not ok; run 2 retries the cut',
    ),
    arrange(trial) {
      trial.guard.sim.addFault({
        route: 'gnocchi.measures',
        project: trial.id,
        status: 500,
      });
    },
    blocksCut: true,
    verify(_trial, first) {
      const hungry = hungryOf(first);

      expect(hungry.evaluation.spend.dataStatus).toBe('ok');
      expect(hungry.action?.status).toBe('skipped');
      expect(hungry.action?.reason).toMatch(/data is error/);
      return [];
    },
  },
];

describe('fault matrix: check, cut and restore', () => {
  it.each(standardRows.map((spec) => [spec.title, spec] as const))(
    'keeps invariants under %s',
    async (_fault, spec) => {
      const facts = await standardTrial(spec);

      observe(spec, facts);
    },
  );

  const emptyRow = row(
    'empty cost series for hungry',
    'no_data reported once per day, never read as zero, no cut',
  );
  it('never cuts on an empty series', async () => {
    const trial = await startTrial({
      hungry: { ...HUNGRY, costs: { hourly: [] } },
    });

    const first = await trial.check();
    const second = await trial.check();
    const restore = await trial.restore();

    expect(hungryOf(first).evaluation.spend.dataStatus).toBe('no_data');
    expect(hungryOf(first).evaluation.level).toBe('ok');
    expect(first.errors).toBe(0);
    expect(second.errors).toBe(0);
    expectEachNoticeOnce(trial.guard.notifier.sent, [
      `warm ${CUT_PERIOD} warn`,
      `hungry data:${DAY} no_data`,
    ]);
    expect(trial.guard.sim.requestsTo('quota.patch')).toEqual([]);
    expect(restore.status).toBe('skipped');
    expect(trial.guard.sim.quotaValues(trial.id)).toEqual(trial.before);
    observe(emptyRow, [
      `run 1: ${describeRun(first)}`,
      `run 2: ${describeRun(second)}`,
      'no PATCH',
      'restore skipped (nothing saved)',
    ]);
  });

  const staleRow = row(
    'gap at the end of the series: 1500 rubles yesterday, newest bucket 37 h old',
    'stale reported once; the crossing is notified with the cut skipped',
  );
  it('never cuts on a stale series', async () => {
    const trial = await startTrial({
      hungry: {
        ...HUNGRY,
        // Three hours of 500 rubles early yesterday (local), nothing since.
        costs: { hourly: hourly(RUN_AT - 36 * HOUR_MS, 3, 50_000) },
      },
    });

    const first = await trial.check();
    const second = await trial.check();

    expect(hungryOf(first).evaluation.spend.dataStatus).toBe('stale');
    expect(second.errors).toBe(0);
    expect(hungryOf(first).evaluation.level).toBe('cut');
    expect(hungryOf(first).action?.status).toBe('skipped');
    expectEachNoticeOnce(trial.guard.notifier.sent, [
      `warm ${CUT_PERIOD} warn`,
      `hungry data:${DAY} stale`,
      'hungry day:2026-12-09 cut',
    ]);
    expectNoCutOnMissingData(trial);
    expect(trial.guard.sim.requestsTo('quota.patch')).toEqual([]);
    observe(staleRow, [
      `run 1: ${describeRun(first)}`,
      `run 2: ${describeRun(second)}`,
      'no PATCH',
    ]);
  });

  const settleRow = row(
    'state store write that settles hungry’s sent notice fails',
    'reported; a rerun inside the 15-minute claim lease neither resends nor cuts; a run after the lease resends (at least once) and cuts',
  );
  it('resends after a failed settle', async () => {
    const trial = await startTrial({ faultyStore: true });
    const { guard } = trial;
    let settles = 0;
    trial.items.failPut((item) => {
      if (
        item.pk !== `project#${trial.id}` ||
        item.sk !== `alert#${CUT_PERIOD}` ||
        item.status !== 'sent'
      )
        return false;
      settles++;
      return true;
    });
    const later = () => Date.now() + LATER_MS;
    const laterActions = new QuotaActions({
      config: guard.config,
      selectel: guard.client,
      store: guard.store,
      notifier: guard.notifier,
      log: silentLog,
      now: later,
    });

    const first = await trial.check();
    trial.recover();
    const second = await trial.check();
    const third = await trial.check(() =>
      runCheck(
        {
          config: guard.config,
          selectel: guard.client,
          store: guard.store,
          notifier: guard.notifier,
          cuts: localCutRequester(laterActions, RUN_AT),
          log: silentLog,
          now: later,
        },
        { runAtMs: RUN_AT },
      ),
    );
    const counts = countNotices(guard.notifier.sent);

    expect(settles).toBe(1);
    expect(hungryOf(first).error).toMatch(/state store unavailable/);
    expect(first.errors).toBeGreaterThanOrEqual(1);
    expect(patchesIn(trial.runs[0]!, trial.id)).toBe(0);
    expect(hungryOf(second).notifications).toEqual([]);
    expect(patchesIn(trial.runs[1]!, trial.id)).toBe(0);
    expect(counts.get(`hungry ${CUT_PERIOD} cut`)).toBe(2);
    expect(hungryOf(third).action?.status).toBe('done');
    expectNoCutOnMissingData(trial);
    await expectSnapshotKeepsOriginal(trial);
    await expectRestored(trial);
    observe(settleRow, [
      `run 1: ${describeRun(first)}`,
      `run 2 (inside the lease): ${describeRun(second)}, no notice`,
      `run 3 (after the lease): ${describeRun(third)}`,
      `hungry cut notice sent ${counts.get(`hungry ${CUT_PERIOD} cut`)} times`,
      'restore done, quotas as before',
    ]);
  });

  const killRow = row(
    'process killed right after saving the snapshot, before the PATCH (its lock and claims left behind)',
    'a run after the lock and lease expire applies the saved cut on the same snapshot without resending the notice; restore puts the original quotas back',
  );
  it('finishes a cut killed before PATCH', async () => {
    const trial = await startTrial({ faultyStore: true });
    const { guard } = trial;
    trial.items.dieAfterPut((item) => item.sk === 'snapshot');
    const later = () => Date.now() + LATER_MS;
    const store = new StateStore(trial.items.inner);
    const actions = new QuotaActions({
      config: guard.config,
      selectel: guard.client,
      store,
      notifier: guard.notifier,
      log: silentLog,
      now: later,
    });

    const killed = await trial.check();
    trial.recover();
    const saved = await store.getSnapshot(trial.id);
    const resumed = await trial.check(() =>
      runCheck(
        {
          config: guard.config,
          selectel: guard.client,
          store,
          notifier: guard.notifier,
          cuts: localCutRequester(actions, RUN_AT),
          log: silentLog,
          now: later,
        },
        { runAtMs: RUN_AT },
      ),
    );
    const after = await store.getSnapshot(trial.id);

    expect(killed.errors).toBeGreaterThan(0);
    expect(patchesIn(trial.runs[0]!, trial.id)).toBe(0);
    expect(saved?.cutStatus).toBe('applying');
    expect(hungryOf(resumed).action?.status).toBe('done');
    expect(after?.snapshotId).toBe(saved?.snapshotId);
    expect(after?.cutStatus).toBe('done');
    expectEachNoticeOnce(
      guard.notifier.sent.filter((n) => n.project?.name === 'hungry'),
      [`hungry ${CUT_PERIOD} cut`],
    );
    expectNoCutOnMissingData(trial);
    await expectSnapshotKeepsOriginal(trial);
    await expectRestored(trial);
    observe(killRow, [
      `run 1 (killed): snapshot ${saved?.cutStatus}, no PATCH`,
      `run 2 (20 min later): ${describeRun(resumed)}, same snapshot`,
      'cut notice sent once',
      'restore done, quotas as before',
    ]);
  });

  const cutResultRow = row(
    'notification publish fails while the quota action reports its cut (quota.cut)',
    'the cut result is published by a later run, or the failure counts in the run’s errors',
  );
  it('retries a failed cut result', async () => {
    const trial = await startTrial();
    trial.guard.notifier.failing = true;

    const first = await trial.check();
    trial.recover();
    const second = await trial.check();
    const results = trial.guard.notifier.sent.filter(
      (notification) => notification.event === EVENTS.quotaCut,
    );
    observe(cutResultRow, [
      `run 1: ${describeRun(first)}`,
      `run 2: ${describeRun(second)}`,
      `quota.cut queued in run 1, published ${plural(results.length, 'time', 'times')} by run 2`,
    ]);

    // Two crossing notices and the queued cut result fail in run 1.
    expect(hungryOf(first).action?.status).toBe('done');
    expect(first.errors).toBe(3);
    expect(first.queuedNotifications).toEqual({ sent: 0, failed: 1 });
    expect(second.queuedNotifications).toEqual({ sent: 1, failed: 0 });
    expect(results).toHaveLength(1);
  });

  const snsRow = row(
    'SNS answers HTTP 500 to every publish in run 1 (AWS path, where the cut request is the message)',
    'notices and the cut request reported as failed, nothing cut; run 2 publishes each once; the quota-action function then cuts',
  );
  it('republishes after SNS failures', async () => {
    const trial = await startTrial();
    const { guard } = trial;
    const sns = await SnsStandIn.start();
    const client = new SNSClient({
      endpoint: sns.endpoint,
      region: 'eu-central-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
    const notifier = new SnsNotifier(
      'arn:aws:sns:eu-central-1:123456789012:budget-guard-alerts',
      client,
    );
    const viaSns = () =>
      runCheck(
        {
          config: guard.config,
          selectel: guard.client,
          store: guard.store,
          notifier,
          cuts: eventCutRequester,
          log: silentLog,
        },
        { runAtMs: RUN_AT },
      );
    try {
      sns.failNext(1_000);
      const first = await trial.check(viaSns);
      sns.failNext(0);
      const second = await trial.check(viaSns);
      const published = sns.published.map(
        (message) =>
          JSON.parse(JSON.parse(message.message).sqs) as Notification['data'],
      );
      const request = published.find(
        (data) => data.event === EVENTS.cutRequested,
      );
      const action = request?.action as { requestId: string; mode: 'freeze' };
      const cut = await guard.actions.execute({
        action: 'cut',
        project: trial.id,
        mode: action.mode,
        requestId: action.requestId,
        source: 'event',
        actor: 'quota-action',
        period: CUT_PERIOD,
        asOfMs: RUN_AT,
      });

      expect(hungryOf(first).action?.status).toBe('failed');
      expect(first.errors).toBe(3);
      expect(patchesIn(trial.runs[0]!, trial.id)).toBe(0);
      expect(hungryOf(second).action?.status).toBe('requested');
      expect(patchesIn(trial.runs[1]!, trial.id)).toBe(0);
      expect(second.errors).toBe(0);
      expectEachNoticeOnce(
        published.map((data) => ({
          event: String(data.event),
          project: data.project as { name: string } | null,
          level: String(data.level),
          data,
        })),
        BASE_NOTICES,
      );
      expect(cut.status).toBe('done');
      await expectSnapshotKeepsOriginal(trial);
      await expectRestored(trial);
      observe(snsRow, [
        `run 1: ${describeRun(first)}`,
        `run 2: ${describeRun(second)}`,
        `${sns.calls} publish calls, ${sns.published.length} delivered`,
        `quota-action cut ${cut.status}`,
        'restore done, quotas as before',
      ]);
    } finally {
      client.destroy();
      await sns.close();
    }
  });
});

describe('fault matrix: restore under faults', () => {
  const restoreRows = [
    {
      ...row(
        '207 partial PATCH during the restore (ru-3/ru-3a compute_cores not applied)',
        'restore partial, snapshot stays in force; the retry sends only that entry',
      ),
      simFault: {
        route: 'quota.patch' as const,
        region: 'ru-3',
        times: 1,
        failEntries: [{ resource: 'compute_cores', zone: 'ru-3a' }],
      },
      status: 'partial',
    },
    {
      ...row(
        'HTTP 500 on every quota PATCH during the restore',
        'restore failed, snapshot stays in force; the retry restores',
      ),
      simFault: { route: 'quota.patch' as const, status: 500 },
      status: 'failed',
    },
  ];

  it.each(restoreRows.map((spec) => [spec.status, spec] as const))(
    'keeps the snapshot after a %s restore',
    async (_route, spec) => {
      const trial = await startTrial();
      const cut = await trial.check();
      const snapshotId = await expectSnapshotKeepsOriginal(trial);
      trial.guard.sim.addFault(spec.simFault);
      const patchesBefore = trial.guard.sim.requestsTo('quota.patch').length;

      const failed = await trial.restore();
      const snapshotAfterFailure = await trial.guard.store.getSnapshot(
        trial.id,
      );
      trial.recover();
      const patchesAfterFailure =
        trial.guard.sim.requestsTo('quota.patch').length;
      await expectRestored(trial);
      const retry = trial.guard.sim
        .requestsTo('quota.patch')
        .slice(patchesAfterFailure);

      expect(cut.errors).toBe(0);
      expect(failed.status).toBe(spec.status);
      expect(snapshotAfterFailure?.status).toBe('active');
      expect(snapshotAfterFailure?.snapshotId).toBe(snapshotId);
      expect(snapshotAfterFailure?.restorePending?.length).toBeGreaterThan(0);
      expect(retry.length).toBeGreaterThan(0);
      expect(patchesAfterFailure).toBeGreaterThan(patchesBefore);
      if (spec.status === 'partial') {
        expect(retry.map((record) => record.body)).toEqual([
          { quotas: { compute_cores: [{ zone: 'ru-3a', value: 24 }] } },
        ]);
      }
      observe(spec, [
        `first restore ${failed.status} with ${plural(snapshotAfterFailure?.restorePending?.length ?? 0, 'entry', 'entries')} pending`,
        'snapshot kept',
        `retry sent ${plural(retry.length, 'PATCH', 'PATCH requests')}`,
        'quotas as before',
      ]);
    },
  );
});

/** The fields of `check --json`, `cut --json` and `restore --json` read here. */
interface CliJson {
  status?: string;
  error?: string | null;
  errors?: number;
  projects?: { name: string; action: { status: string } | null }[];
  snapshot?: { snapshotId: string } | null;
}

describe('fault matrix: command line exit status', () => {
  async function cli(trial: Trial, argv: string[]) {
    const folder =
      trial.cliFolder ?? (trial.cliFolder = await cliFolder(trial));
    const stdout: string[] = [];
    const stderr: string[] = [];
    const code = await main(
      [...argv, '--config', join(folder, 'budgets.yml'), '--json'],
      {
        stdout: { write: (text: string) => stdout.push(text) },
        stderr: { write: (text: string) => stderr.push(text) },
        env: {
          SELECTEL_API_KEY: 'sim-api-key',
          BUDGET_GUARD_STATE_DIR: join(folder, 'state'),
          LOG_LEVEL: 'silent',
        },
        cwd: folder,
        http: {
          sleep: async (ms) => {
            trial.sleeps.push(ms);
          },
        },
      },
    );

    return {
      code,
      json: JSON.parse(stdout.join('')) as CliJson,
      stderr: stderr.join(''),
    };
  }

  async function cliFolder(trial: Trial): Promise<string> {
    const folder = await mkdtemp(join(tmpdir(), 'budget-guard-cli-'));
    await writeFile(
      join(folder, 'budgets.yml'),
      JSON.stringify({
        account: trial.guard.sim.scenario.account,
        timezone: 'Europe/Moscow',
        endpoints: trial.guard.sim.endpoints,
        costs: { granularity: 3600 },
        budgets: {
          default: { daily: 1000, monthly: 20000, cutAt: 1.2 },
          ...BUDGETS,
        },
      }),
    );
    cliFolders.push(folder);

    return folder;
  }

  const cliFolders: string[] = [];
  afterAll(async () => {
    for (const folder of cliFolders)
      await rm(folder, { recursive: true, force: true });
  });

  /** Reads the notifications that local runs appended to the outbox file. */
  async function readOutbox(trial: Trial) {
    const text = await readFile(
      join(trial.cliFolder as string, 'state', 'outbox.jsonl'),
      'utf8',
    );

    return text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Parameters<typeof noticeKey>[0]);
  }

  const listingRow = row(
    'CLI check: project listing answers HTTP 500',
    'exit 1 with the failure in the JSON error field',
  );
  it('exits 1 on a failed listing', async () => {
    const trial = await startTrial({
      scenario: { faults: [{ route: 'resell.projects', status: 500 }] },
    });

    const run = await cli(trial, [
      'check',
      '--now',
      new Date(RUN_AT).toISOString(),
    ]);

    expect(run.code).toBe(1);
    expect(run.json.error).toMatch(/listing projects failed/);
    expect(run.json.errors).toBe(1);
    expect(trial.guard.sim.requestsTo('quota.patch')).toEqual([]);
    observe(listingRow, [
      `exit ${run.code}`,
      `errors ${run.json.errors}`,
      'no notice, no PATCH',
    ]);
  });

  const partialRow = row(
    'CLI check: 207 partial quota PATCH, then a rerun',
    'exit 1 while the cut is partial, exit 0 once the rerun completes it; restore exits 0',
  );
  it('exits 1 on a partial cut', async () => {
    const trial = await startTrial({
      scenario: {
        faults: [
          {
            route: 'quota.patch',
            region: 'ru-1',
            times: 1,
            failEntries: [{ resource: 'compute_cores', zone: 'ru-1a' }],
          },
        ],
      },
    });
    const now = new Date(RUN_AT).toISOString();

    const first = await cli(trial, ['check', '--now', now]);
    const second = await cli(trial, ['check', '--now', now]);
    const restore = await cli(trial, ['restore', 'hungry']);
    const hungry = (run: typeof first) =>
      run.json.projects?.find((project) => project.name === 'hungry');
    const outbox = await readOutbox(trial);

    expect(hungry(first)?.action?.status).toBe('partial');
    expect(first.code).toBe(1);
    expect(hungry(second)?.action?.status).toBe('done');
    expect(second.code).toBe(0);
    expect(restore.code).toBe(0);
    expect(restore.json.status).toBe('done');
    expect(trial.guard.sim.quotaValues(trial.id)).toEqual(trial.before);
    expectEachNoticeOnce(outbox, BASE_NOTICES);
    observe(partialRow, [
      `check 1: exit ${first.code}, cut ${hungry(first)?.action?.status}`,
      `check 2: exit ${second.code}, cut ${hungry(second)?.action?.status}`,
      `restore: exit ${restore.code}`,
      'outbox holds each notice once',
    ]);
  });

  const cutRow = row(
    'CLI cut and restore: every quota PATCH answers HTTP 500, then the fault clears',
    'cut exits 1 with status failed and quotas unchanged; the repeated cut exits 0; restore exits 0 with the original quotas',
  );
  it('exits 1 on a failed cut', async () => {
    const trial = await startTrial({
      scenario: { faults: [{ route: 'quota.patch', status: 500 }] },
    });

    const failed = await cli(trial, ['cut', 'hungry']);
    const unchanged = trial.guard.sim.quotaValues(trial.id);
    trial.recover();
    const retried = await cli(trial, ['cut', 'hungry']);
    const restore = await cli(trial, ['restore', 'hungry']);

    expect(failed.code).toBe(1);
    expect(failed.json.status).toBe('failed');
    expect(unchanged).toEqual(trial.before);
    expect(retried.code).toBe(0);
    expect(retried.json.snapshot?.snapshotId).toBe(
      failed.json.snapshot?.snapshotId,
    );
    expect(restore.code).toBe(0);
    expect(trial.guard.sim.quotaValues(trial.id)).toEqual(trial.before);
    observe(cutRow, [
      `cut: exit ${failed.code}, ${failed.json.status}`,
      `repeated cut: exit ${retried.code}, same snapshot`,
      `restore: exit ${restore.code}, quotas as before`,
    ]);
  });

  const stormRow = row(
    'CLI check: 503 with Retry-After 5 s twice on the project listing',
    'exit 0 after the retries, with no real waiting',
  );
  it('exits 0 after a 503 storm', async () => {
    const trial = await startTrial({
      scenario: {
        faults: [
          {
            route: 'resell.projects',
            status: 503,
            retryAfterSeconds: 5,
            times: 2,
          },
        ],
      },
    });

    const run = await cli(trial, [
      'check',
      '--now',
      new Date(RUN_AT).toISOString(),
    ]);

    expect(run.code).toBe(0);
    expect(run.json.errors).toBe(0);
    expect(trial.sleeps).toEqual([5_000, 5_000]);
    observe(stormRow, [
      `exit ${run.code}`,
      `sleeps requested ${trial.sleeps.join(', ')} ms`,
    ]);
  });
});
