import {
  type QuotaTarget,
  type QuotaValue,
  quotaKey,
} from '../selectel/quotas.js';
import type { CutMode, SnapshotQuota } from '../state/types.js';
import type { QuotaChange } from './types.js';

/**
 * Target values of a cut. `freeze` sets each quota to what is used now and
 * `zero` to 0; a cut never raises a quota, so a quota already below its use
 * or its target keeps its value and is left out.
 */
export function cutTargets(
  quotas: readonly QuotaValue[],
  mode: CutMode,
): QuotaTarget[] {
  const targets: QuotaTarget[] = [];
  for (const quota of quotas) {
    const wanted = mode === 'zero' ? 0 : (quota.used ?? quota.value);
    const value = Math.min(quota.value, wanted);
    if (value !== quota.value) targets.push({ ...keyOf(quota), value });
  }

  return targets;
}

/**
 * Entries of the snapshot whose current value differs from the saved one,
 * and every entry of a region whose current values could not be read.
 */
export function restoreTargets(
  snapshot: readonly SnapshotQuota[],
  current: readonly QuotaValue[],
  unreadRegions: readonly { region: string }[] = [],
): QuotaTarget[] {
  const now = new Map(current.map((quota) => [quotaKey(quota), quota.value]));
  const unread = new Set(unreadRegions.map((item) => item.region));

  return snapshot
    .filter(
      (quota) =>
        unread.has(quota.region) || now.get(quotaKey(quota)) !== quota.value,
    )
    .map((quota) => ({ ...keyOf(quota), value: quota.value }));
}

/**
 * Checks what was asked against what Selectel reports afterwards: an entry
 * is ok only when the value read back equals its target. Without a read-back
 * (none at all, or none for the entry's region) the PATCH response decides.
 */
export function verifyChanges(
  targets: readonly QuotaTarget[],
  before: readonly QuotaValue[],
  failed: readonly {
    region: string;
    zone: string | null;
    resource: string;
    message: string;
  }[],
  readBack: readonly QuotaValue[] | null,
  unreadRegions: readonly string[] = [],
): QuotaChange[] {
  const beforeValues = new Map(
    before.map((quota) => [quotaKey(quota), quota.value]),
  );
  const afterValues = readBack
    ? new Map(readBack.map((quota) => [quotaKey(quota), quota.value]))
    : null;
  const unread = new Set(unreadRegions);
  const failures = new Map(
    failed.map((entry) => [quotaKey(entry), entry.message]),
  );

  return targets.map((target) => {
    const key = quotaKey(target);
    const reported = failures.get(key);
    const seen = afterValues?.get(key);
    const readable = afterValues !== null && !unread.has(target.region);
    const ok = readable ? seen === target.value : reported === undefined;
    const change: QuotaChange = {
      region: target.region,
      zone: target.zone,
      resource: target.resource,
      before: beforeValues.get(key) ?? null,
      after: target.value,
      ok,
    };
    if (!ok) {
      change.error =
        reported ?? `read back ${seen ?? 'nothing'} instead of ${target.value}`;
    }
    return change;
  });
}

/** Lists the changes a dry run would make. */
export function plannedChanges(
  targets: readonly QuotaTarget[],
  before: readonly QuotaValue[],
): QuotaChange[] {
  const beforeValues = new Map(
    before.map((quota) => [quotaKey(quota), quota.value]),
  );

  return targets.map((target) => ({
    region: target.region,
    zone: target.zone,
    resource: target.resource,
    before: beforeValues.get(quotaKey(target)) ?? null,
    after: target.value,
    ok: true,
  }));
}

function keyOf(quota: {
  region: string;
  zone: string | null;
  resource: string;
}) {
  return { region: quota.region, zone: quota.zone, resource: quota.resource };
}
