import { join, resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import type { Log } from '../log.js';
import { LocalNotifier } from '../notify/local.js';
import type { Notifier } from '../notify/port.js';
import { QuotaActions } from '../quota/actions.js';
import type { SelectelClient } from '../selectel/client.js';
import type { HttpOptions } from '../selectel/http.js';
import { FileItemStore } from '../state/file-items.js';
import { StateStore } from '../state/store.js';
import { credentialsFromEnv } from './credentials.js';
import { selectelFromConfig } from './selectel.js';

/** Every port of a local run: the file store, the outbox and the Selectel client. */
export interface LocalRuntime {
  config: Config;
  selectel: SelectelClient;
  store: StateStore;
  notifier: Notifier;
  actions: QuotaActions;
  stateDir: string;
  outboxPath: string;
  log: Log;
  close(): Promise<void>;
}

export interface LocalRuntimeOptions {
  config: Config;
  env: NodeJS.ProcessEnv;
  cwd: string;
  log: Log;
  notifier?: Notifier;
  http?: HttpOptions;
}

/** Wires a local run from the config and `BUDGET_GUARD_STATE_DIR` and credentials in the environment. */
export function createLocalRuntime(options: LocalRuntimeOptions): LocalRuntime {
  const { config, env, log } = options;
  const credentials = credentialsFromEnv(env, config.account);
  const stateDir = resolve(
    options.cwd,
    env.BUDGET_GUARD_STATE_DIR ?? '.budget-guard',
  );
  const outboxPath = join(stateDir, 'outbox.jsonl');
  const selectel = selectelFromConfig(config, credentials, log, options.http);
  const store = new StateStore(new FileItemStore(join(stateDir, 'state')));
  const notifier = options.notifier ?? new LocalNotifier(outboxPath);
  const actions = new QuotaActions({ config, selectel, store, notifier, log });

  return {
    config,
    selectel,
    store,
    notifier,
    actions,
    stateDir,
    outboxPath,
    log,
    close: () => selectel.close(),
  };
}
