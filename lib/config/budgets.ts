import type { BudgetInput, Config, CutAction } from './schema.js';

/** A project's budget with every default applied, amounts in kopecks. */
export interface EffectiveBudget {
  dailyKopecks: number | null;
  monthlyKopecks: number | null;
  /** Warning share of a limit in basis points (8000 = 0.8). */
  warnBasisPoints: number;
  /** Cut share in basis points, or null when cuts are off. */
  cutBasisPoints: number | null;
  action: CutAction;
  approval: 'auto' | 'manual';
}

/** Which config entry gave a project its budget. */
export type BudgetSource = 'id' | 'name' | 'default';

export const DEFAULT_WARN_AT = 0.8;

/**
 * Resolves a project's budget field by field: the override keyed by its id
 * wins over the one keyed by its name, which wins over `budgets.default`.
 * So `prod: {action: none}` stays protected when `<prod id>: {monthly: …}`
 * is added.
 */
export function budgetFor(
  config: Config,
  project: { id: string; name: string },
): { budget: EffectiveBudget; source: BudgetSource } {
  const overrides = config.budgets.projects;
  // Own keys only, so a project named "constructor" or "toString" does not
  // match what every object inherits from Object.prototype.
  const own = (key: string) =>
    Object.hasOwn(overrides, key) ? overrides[key] : undefined;
  const byId = own(project.id);
  const byName = own(project.name);
  const merged: BudgetInput = {
    ...config.budgets.default,
    ...byName,
    ...byId,
  };

  return {
    budget: toEffective(merged),
    source: byId ? 'id' : byName ? 'name' : 'default',
  };
}

/** Lists override keys that match no project id or name, for warnings. */
export function unmatchedOverrides(
  config: Config,
  projects: readonly { id: string; name: string }[],
): string[] {
  const known = new Set(
    projects.flatMap((project) => [project.id, project.name]),
  );

  return Object.keys(config.budgets.projects).filter((key) => !known.has(key));
}

export function toKopecks(rubles: number): number {
  return Math.round(rubles * 100);
}

export function toBasisPoints(fraction: number): number {
  return Math.round(fraction * 10_000);
}

function toEffective(budget: BudgetInput): EffectiveBudget {
  return {
    dailyKopecks: budget.daily == null ? null : toKopecks(budget.daily),
    monthlyKopecks: budget.monthly == null ? null : toKopecks(budget.monthly),
    warnBasisPoints: toBasisPoints(budget.warnAt ?? DEFAULT_WARN_AT),
    cutBasisPoints: budget.cutAt == null ? null : toBasisPoints(budget.cutAt),
    action: budget.action ?? 'freeze',
    approval: budget.approval ?? 'auto',
  };
}
