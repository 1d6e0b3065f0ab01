import { formatRubles } from '../costs/money.js';
import { table } from '../check/report.js';
import { actionJson } from '../quota/json.js';
import type { ActionResult, QuotaAction } from '../quota/types.js';
import { UsageError } from '../wiring/credentials.js';
import type { CommandContext } from './main.js';

/** `budget-guard cut` and `restore`. */
export function actionCommand(action: Exclude<QuotaAction, 'status'>) {
  return async (context: CommandContext): Promise<number> => {
    const project = onePositional(context, action);
    const mode = context.options.mode;
    if (mode !== undefined && mode !== 'freeze' && mode !== 'zero') {
      throw new UsageError(
        `invalid --mode ${JSON.stringify(mode)}: use freeze or zero`,
      );
    }
    return context.withRuntime(async (runtime) => {
      const result = await runtime.actions.execute({
        action,
        project,
        ...(mode ? { mode } : {}),
        dryRun: context.options['dry-run'] === true,
        ...(typeof context.options['request-id'] === 'string'
          ? { requestId: context.options['request-id'] }
          : {}),
        source: 'cli',
        actor: context.io.env.USER ?? 'cli',
        reason:
          typeof context.options.reason === 'string'
            ? context.options.reason
            : `${action} from the command line`,
      });
      if (context.json) context.printJson(actionJson(result));
      else context.print(actionText(result));
      return result.status === 'done' || result.status === 'skipped' ? 0 : 1;
    });
  };
}

/** `budget-guard status [PROJECT]`. */
export async function statusCommand(context: CommandContext): Promise<number> {
  if (context.positionals.length > 1)
    throw new UsageError('status takes at most one PROJECT');
  return context.withRuntime(async (runtime) => {
    const [project] = context.positionals;
    if (project) {
      const result = await runtime.actions.execute({
        action: 'status',
        project,
        source: 'cli',
        actor: context.io.env.USER ?? 'cli',
      });
      if (context.json) context.printJson(actionJson(result));
      else context.print(statusText(result));
      return 0;
    }
    const projects = await runtime.selectel.resell.listProjects();
    const rows = await Promise.all(
      projects.map(async (item) => {
        const [snapshot, pending] = await Promise.all([
          runtime.store.getSnapshot(item.id),
          runtime.store.getPendingApproval(item.id),
        ]);
        return {
          project: { id: item.id, name: item.name },
          snapshot: snapshot ?? null,
          pendingApproval: pending ?? null,
        };
      }),
    );
    if (context.json) {
      context.printJson({ projects: rows });
    } else {
      const body = rows.map((row) => [
        row.project.name,
        row.project.id,
        row.snapshot
          ? `${row.snapshot.status} (${row.snapshot.mode}, ${row.snapshot.cutStatus})`
          : '-',
        row.snapshot?.takenAt ?? '-',
        row.pendingApproval
          ? `cut waiting since ${row.pendingApproval.requestedAt}`
          : '-',
      ]);
      context.print(
        table([
          ['PROJECT', 'ID', 'SNAPSHOT', 'TAKEN', 'APPROVAL'],
          ...body,
        ]).join('\n'),
      );
    }
    return 0;
  });
}

function onePositional(context: CommandContext, action: string): string {
  if (context.positionals.length !== 1) {
    throw new UsageError(
      `${action} takes exactly one PROJECT (an id or an exact name)`,
    );
  }

  return context.positionals[0] as string;
}

function actionText(result: ActionResult): string {
  const lines = [
    `${result.action} ${result.project.name} (${result.project.id}): ${result.status}${result.dryRun ? ' (dry run: nothing changed)' : ''}${result.replayed ? ' (result of an earlier request with this id)' : ''}`,
  ];
  if (result.reason) lines.push(`  ${result.reason}`);
  if (result.changes.length > 0) {
    lines.push(
      '',
      ...table([
        ['REGION', 'ZONE', 'RESOURCE', 'BEFORE', 'AFTER', 'RESULT'],
        ...result.changes.map((change) => [
          change.region,
          change.zone ?? '-',
          change.resource,
          String(change.before ?? '?'),
          String(change.after),
          change.ok ? 'ok' : `FAILED: ${change.error ?? ''}`,
        ]),
      ]),
    );
  }
  if (result.snapshot)
    lines.push(
      '',
      `snapshot ${result.snapshot.snapshotId} (${result.snapshot.status}) taken ${result.snapshot.takenAt}`,
    );

  return lines.join('\n');
}

function statusText(result: ActionResult): string {
  const lines = [`${result.project.name} (${result.project.id})`];
  const snapshot = result.snapshot;
  lines.push(
    snapshot
      ? `snapshot ${snapshot.snapshotId}: ${snapshot.status}, mode ${snapshot.mode}, cut ${snapshot.cutStatus}, taken ${snapshot.takenAt}${snapshot.restoredAt ? `, restored ${snapshot.restoredAt}` : ''}`
      : 'no snapshot: the project has never been cut',
  );
  if (result.pendingApproval) {
    const pending = result.pendingApproval;
    lines.push(
      `cut waiting for approval since ${pending.requestedAt} (${pending.period}, ${formatRubles(pending.spentKopecks)} of ${formatRubles(pending.limitKopecks)} RUB)`,
    );
  }
  const saved = new Map(
    (snapshot?.quotas ?? []).map((quota) => [
      `${quota.region}/${quota.zone ?? '-'}/${quota.resource}`,
      quota.value,
    ]),
  );
  lines.push(
    '',
    ...table([
      ['REGION', 'ZONE', 'RESOURCE', 'VALUE', 'USED', 'SNAPSHOT'],
      ...(result.current ?? []).map((quota) => [
        quota.region,
        quota.zone ?? '-',
        quota.resource,
        String(quota.value),
        String(quota.used ?? '?'),
        String(
          saved.get(`${quota.region}/${quota.zone ?? '-'}/${quota.resource}`) ??
            '-',
        ),
      ]),
    ]),
  );
  const audit = result.audit ?? [];
  lines.push(
    '',
    audit.length === 0 ? 'audit trail: empty' : 'audit trail (newest first):',
  );
  for (const entry of audit) {
    lines.push(
      `  ${entry.at} ${entry.action} ${entry.status} by ${entry.actor} via ${entry.source}${entry.dryRun ? ' (dry run)' : ''}: ${entry.reason}`,
    );
  }

  return lines.join('\n');
}
