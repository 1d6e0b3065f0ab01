import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { ActionRequest, ActionResult } from '../../lib/quota/types.js';
import { silentLog } from '../../lib/log.js';
import { FileItemStore } from '../../lib/state/file-items.js';
import { StateStore } from '../../lib/state/store.js';
import { handleWebhook } from '../../lib/webhook/handler.js';
import { computeSignature } from '../../lib/webhook/signature.js';

const NOW_MS = Date.parse('2026-12-10T12:00:00Z');
const NOW_S = NOW_MS / 1000;

let folder: string | undefined;
afterEach(async () => {
  if (folder) await rm(folder, { recursive: true, force: true });
  folder = undefined;
});

it('replay during secret rotation', async () => {
  folder = await mkdtemp(join(tmpdir(), 'breaker-webhook-'));
  const store = new StateStore(new FileItemStore(folder));
  const executed: (ActionRequest & { requestId: string })[] = [];
  const deps = {
    // During a rotation the function accepts the new and the old secret.
    secrets: async () => ['new-secret', 'old-secret'],
    store,
    execute: async (request: ActionRequest & { requestId: string }) => {
      executed.push(request);
      return {
        project: { id: 'a'.repeat(32), name: 'sandbox' },
        action: request.action,
        mode: null,
        status: 'done',
        dryRun: false,
        requestId: request.requestId,
        changes: [],
        snapshot: null,
      } satisfies ActionResult;
    },
    log: silentLog,
    nowMs: NOW_MS,
    invocationId: 'invocation-1',
  };
  const body = '{"action":"restore","project":"sandbox"}';
  const withNew = computeSignature('new-secret', NOW_S, body);
  const withOld = computeSignature('old-secret', NOW_S, body);

  // The sender signs with both secrets, the usual way to rotate.
  const first = await handleWebhook(
    {
      headers: {
        'x-budget-guard-signature': `t=${NOW_S},v1=${withNew},v1=${withOld}`,
      },
      body,
    },
    deps,
  );
  // Someone who saw that request sends it again with one of its signatures.
  const replay = await handleWebhook(
    {
      headers: { 'x-budget-guard-signature': `t=${NOW_S},v1=${withOld}` },
      body,
    },
    deps,
  );

  expect(first.statusCode).toBe(200);
  expect(replay.statusCode).toBe(409);
  expect(executed).toHaveLength(1);
});
