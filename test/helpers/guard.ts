import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localCutRequester } from '../../lib/quota/local-requester.js';
import { QuotaActions } from '../../lib/quota/actions.js';
import { runCheck, type CheckOptions } from '../../lib/check/run.js';
import type { CutRequester } from '../../lib/check/cut-request.js';
import { validateConfig } from '../../lib/config/load.js';
import type { Config, ConfigInput } from '../../lib/config/schema.js';
import type { Log } from '../../lib/log.js';
import { silentLog } from '../../lib/log.js';
import type { Notification, Notifier } from '../../lib/notify/port.js';
import type { HttpOptions } from '../../lib/selectel/http.js';
import { FileItemStore } from '../../lib/state/file-items.js';
import type { ItemStore } from '../../lib/state/items.js';
import { StateStore } from '../../lib/state/store.js';
import type { ScenarioInput } from '../../sim/scenario.js';
import { selectelFromConfig } from '../../lib/wiring/selectel.js';
import { startSim } from './sim.js';

/** A notifier that keeps every message and can be set to fail. */
export class RecordingNotifier implements Notifier {
  readonly sent: Notification[] = [];
  attempts = 0;
  failing = false;

  async publish(notification: Notification): Promise<{ messageId: string }> {
    this.attempts++;
    if (this.failing) throw new Error('SNS is unavailable');
    this.sent.push(notification);
    return { messageId: `m-${this.sent.length}` };
  }

  subjects(): string[] {
    return this.sent.map((notification) => notification.subject);
  }
}

export interface GuardOptions {
  scenario: ScenarioInput;
  budgets?: Partial<ConfigInput['budgets']>;
  config?: Partial<ConfigInput>;
  items?: ItemStore;
  log?: Log;
  /** HTTP client options, such as a recording `sleep` or a `timeoutMs`. */
  http?: HttpOptions;
}

/**
 * A whole local guard against a fresh simulator: config, file store,
 * recording notifier and the quota-action core, as `budget-guard check` wires them.
 */
export async function startGuard(options: GuardOptions) {
  const { sim, client: plainClient, close } = await startSim(options.scenario);
  const folder = await mkdtemp(join(tmpdir(), 'budget-guard-check-'));
  const config: Config = validateConfig({
    account: sim.scenario.account,
    timezone: 'Europe/Moscow',
    endpoints: sim.endpoints,
    costs: { granularity: 3600 },
    ...options.config,
    budgets: {
      default: {
        daily: 1000,
        monthly: 20000,
        warnAt: 0.8,
        cutAt: 1.2,
        action: 'freeze',
        approval: 'auto',
      },
      ...options.budgets,
    },
  });
  await plainClient.close();
  const client = selectelFromConfig(
    config,
    { kind: 'apiKey', apiKey: sim.scenario.apiKey },
    options.log ?? silentLog,
    { sleep: async () => {}, ...options.http },
  );
  const items = options.items ?? new FileItemStore(join(folder, 'state'));
  const store = new StateStore(items);
  const notifier = new RecordingNotifier();
  const log = options.log ?? silentLog;
  const actions = new QuotaActions({
    config,
    selectel: client,
    store,
    notifier,
    log,
  });

  return {
    sim,
    client,
    config,
    store,
    notifier,
    actions,
    folder,
    /** Runs one check; cuts go to the in-process core unless `cuts` is given. */
    check(
      runAtMs: number,
      extra: CheckOptions & { cuts?: CutRequester; store?: StateStore } = {},
    ) {
      return runCheck(
        {
          config,
          selectel: client,
          store: extra.store ?? store,
          notifier,
          cuts: extra.cuts ?? localCutRequester(actions, runAtMs),
          log,
        },
        { runAtMs, ...extra },
      );
    },
    projectId(name: string): string {
      const project = [...sim.state.projects.values()].find(
        (item) => item.name === name,
      );
      if (!project) throw new Error(`no project ${name} in the scenario`);
      return project.id;
    },
    async close() {
      await client.close();
      await close();
      await rm(folder, { recursive: true, force: true });
    },
  };
}

export const HOUR_MS = 3_600_000;

/** `count` hourly buckets of `kopecks` each, ending at `endMs`, as scenario points. */
export function hourly(
  endMs: number,
  count: number,
  kopecks: number,
): [string, number][] {
  return Array.from({ length: count }, (_, index): [string, number] => [
    new Date(endMs - (count - index) * HOUR_MS).toISOString(),
    kopecks,
  ]);
}
