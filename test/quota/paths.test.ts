import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SNSEvent } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../lib/cli/main.js';
import { handleCutEvent } from '../../lib/quota/events.js';
import { localCutRequester } from '../../lib/quota/local-requester.js';
import { handleWebhook } from '../../lib/webhook/handler.js';
import { signatureHeader } from '../../lib/webhook/signature.js';
import { hourly, startGuard } from '../helpers/guard.js';
import { recordingLog } from '../helpers/mock-http.js';

const RUN_AT = Date.parse('2026-12-10T12:00:00Z');
const QUOTAS = {
  'ru-1': {
    compute_cores: [
      { zone: 'ru-1a', value: 48, used: 32 },
      { zone: 'ru-1b', value: 16, used: 4 },
    ],
    image_gigabytes: [{ value: 500, used: 120 }],
  },
  'ru-3': { compute_cores: [{ zone: 'ru-3a', value: 24, used: 8 }] },
};

type Guard = Awaited<ReturnType<typeof startGuard>>;
type CutPath = (
  guard: Guard,
  project: string,
  requestId: string,
) => Promise<string>;

/** Each way a cut can reach the quota-action core, returning the result status. */
const PATHS: [string, CutPath][] = [
  [
    'command line',
    async (guard, project, requestId) => {
      const config = join(guard.folder, 'budgets.json');
      await writeFile(
        config,
        JSON.stringify({ ...guard.config, endpoints: guard.config.endpoints }),
      );
      let stdout = '';
      await main(
        [
          'cut',
          project,
          '--config',
          config,
          '--json',
          '--request-id',
          requestId,
        ],
        {
          stdout: { write: (text: string) => (stdout += text) },
          stderr: { write: () => true },
          env: {
            SELECTEL_API_KEY: guard.sim.scenario.apiKey,
            BUDGET_GUARD_STATE_DIR: guard.folder,
          },
          cwd: guard.folder,
        },
      );
      return (JSON.parse(stdout) as { status: string }).status;
    },
  ],
  [
    'webhook',
    async (guard, project, requestId) => {
      const body = JSON.stringify({ action: 'cut', project, requestId });
      const response = await handleWebhook(
        {
          headers: {
            'x-budget-guard-signature': signatureHeader(
              'secret',
              Math.floor(RUN_AT / 1000),
              body,
            ),
          },
          body,
        },
        {
          secrets: async () => ['secret'],
          store: guard.store,
          execute: (request) => guard.actions.execute(request),
          log: recordingLog(),
          nowMs: RUN_AT,
          invocationId: requestId,
        },
      );
      return (JSON.parse(response.body) as { status: string }).status;
    },
  ],
  [
    'SNS event',
    async (guard, project, requestId) => {
      const message = {
        event: 'budget.cut_requested',
        project: { id: guard.projectId(project), name: project },
        period: { kind: 'day', key: '2026-12-10' },
        action: { mode: 'freeze', requestId },
      };
      const event = {
        Records: [
          { Sns: { MessageId: requestId, Message: JSON.stringify(message) } },
        ],
      } as unknown as SNSEvent;
      const log = recordingLog();
      await handleCutEvent(event, {
        actions: {
          execute: (request) =>
            guard.actions.execute({ ...request, asOfMs: RUN_AT }),
        } as Guard['actions'],
        store: guard.store,
        log,
      });
      const handled = log.lines.map(
        (line) => JSON.parse(line) as { message: string; status?: string },
      );
      return (
        handled.find((line) => line.message === 'cut request handled')
          ?.status ?? 'none'
      );
    },
  ],
  [
    'check',
    async (guard, project, requestId) => {
      const outcome = await localCutRequester(guard.actions, RUN_AT).request({
        requestId,
        project: { id: guard.projectId(project), name: project },
        period: 'day:2026-12-10',
        mode: 'freeze',
        reason: 'test',
      });
      return outcome.status;
    },
  ],
];

describe.each(PATHS)('cut through the %s', (_name, cutThrough) => {
  let guard: Guard | undefined;
  afterEach(async () => {
    await guard?.close();
    guard = undefined;
  });

  async function setup() {
    guard = await startGuard({
      scenario: {
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
      },
      budgets: { projects: { sandbox: {}, prod: { action: 'none' } } },
    });
    return guard;
  }

  it('never cuts a protected project', async () => {
    const { sim } = await setup();

    const status = await cutThrough(guard!, 'prod', 'protected-1');

    expect(status).toBe('refused');
    expect(sim.requestsTo('quota.get')).toEqual([]);
    expect(sim.requestsTo('quota.patch')).toEqual([]);
  });

  it('never overwrites the snapshot in force', async () => {
    const { sim, actions, store, projectId } = await setup();
    const id = projectId('sandbox');
    const before = sim.quotaValues(id);
    const first = await actions.execute({
      action: 'cut',
      project: 'sandbox',
      source: 'cli',
      actor: 'test',
    });

    const status = await cutThrough(guard!, 'sandbox', 'second-cut');
    const snapshot = await store.getSnapshot(id);
    const restore = await actions.execute({
      action: 'restore',
      project: 'sandbox',
      source: 'cli',
      actor: 'test',
    });

    expect(first.status).toBe('done');
    expect(status).toBe('done');
    expect(snapshot?.snapshotId).toBe(first.snapshot?.snapshotId);
    expect(
      snapshot?.quotas.find((quota) => quota.zone === 'ru-1a')?.value,
    ).toBe(48);
    expect(restore.status).toBe('done');
    expect(sim.quotaValues(id)).toEqual(before);
  });
});
