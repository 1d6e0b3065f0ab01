import type { Fault } from './scenario.js';
import {
  quotaSlot,
  type SimProject,
  type SimQuota,
  type SimState,
} from './state.js';
import type { SimRequest, SimResponse } from './types.js';

interface EntryError {
  resource: string;
  zone?: string;
  message: string;
  code: number;
}

interface RequestedEntry {
  resource: string;
  zone: string | null;
  value: unknown;
}

/** Quota Management API of one region, plus the legacy resell v2 paths. */
export class QuotaRoutes {
  constructor(private readonly state: SimState) {}

  get(req: SimRequest): SimResponse {
    const project = this.state.project(req.params.project as string);
    const region = req.params.region as string;
    const quotas = project?.quotas.get(region);
    if (!project || !quotas) return quotaError(404, 'Not Found', []);
    const wanted = req.query.getAll('resource');
    const failing = req.faults.flatMap((fault) => fault.failEntries ?? []);
    const shown = [...quotas.values()].filter(
      (quota) =>
        (wanted.length === 0 || wanted.includes(quota.resource)) &&
        !failing.some((entry) => sameEntry(entry, quota)),
    );
    const body: Record<string, unknown> = { quotas: toQuotaMap(shown, true) };
    if (failing.length === 0) return { status: 200, body };
    body.error = multiStatus(
      failing.map((entry) => ({
        resource: entry.resource,
        ...(entry.zone ? { zone: entry.zone } : {}),
        message: 'backend unavailable',
        code: 503,
      })),
    );
    return { status: 207, body };
  }

  limits(req: SimRequest): SimResponse {
    const project = this.state.project(req.params.project as string);
    const quotas = project?.quotas.get(req.params.region as string);
    if (!project || !quotas) return quotaError(404, 'Not Found', []);
    const limits = [...quotas.values()].map((quota) => ({
      ...quota,
      value: this.resource(quota.resource)?.limit ?? 0,
    }));
    return { status: 200, body: { quotas: toQuotaMap(limits, false) } };
  }

  patch(req: SimRequest): SimResponse {
    const project = this.state.project(req.params.project as string);
    const region = req.params.region as string;
    if (!project || !project.quotas.has(region))
      return quotaError(404, 'Not Found', []);
    const requested = readQuotaBody(req.body, false);
    if (!requested) return quotaError(400, 'Bad Request', []);
    const entries = requested.map((entry) => ({ ...entry, region }));
    const { applied, errors } = this.apply(project, entries, req.faults);
    if (applied.length === 0 && errors.length > 0) {
      return quotaError(400, 'Bad Request', errors);
    }
    const body: Record<string, unknown> = {
      quotas: toQuotaMap(applied, false),
    };
    if (errors.length === 0) return { status: 200, body };
    body.error = multiStatus(errors);
    return { status: 207, body };
  }

  legacyGet(req: SimRequest): SimResponse {
    const project = this.state.project(req.params.project as string);
    if (!project) return { status: 404, body: { error: 'project_not_found' } };
    const quotas: Record<string, unknown[]> = {};
    for (const [region, entries] of project.quotas) {
      for (const quota of entries.values()) {
        (quotas[quota.resource] ??= []).push({
          region,
          zone: quota.zone,
          value: quota.value,
          used: quota.used,
        });
      }
    }
    return { status: 200, body: { quotas } };
  }

  /** Legacy PATCH is all or nothing: one bad entry rejects the request. */
  legacyPatch(req: SimRequest): SimResponse {
    const project = this.state.project(req.params.project as string);
    if (!project) return { status: 404, body: { error: 'project_not_found' } };
    const requested = readQuotaBody(req.body, true);
    if (!requested) return { status: 400, body: { error: 'invalid_quotas' } };
    for (const entry of requested) {
      const problem = this.check(
        project,
        entry as RequestedEntry & { region: string },
        req.faults,
      );
      if (problem) {
        return {
          status: 400,
          body: {
            error: 'cant_set_quota',
            resource: entry.resource,
            zone: entry.zone,
            value: entry.value,
          },
        };
      }
    }
    const { applied } = this.apply(
      project,
      requested as (RequestedEntry & { region: string })[],
      [],
    );
    const quotas: Record<string, unknown[]> = {};
    for (const quota of applied) {
      (quotas[quota.resource] ??= []).push({
        region: quota.region,
        zone: quota.zone,
        value: quota.value,
      });
    }
    return { status: 200, body: { quotas } };
  }

  private apply(
    project: SimProject,
    entries: (RequestedEntry & { region: string })[],
    faults: Fault[],
  ) {
    const applied: (SimQuota & { region: string })[] = [];
    const errors: EntryError[] = [];
    for (const entry of entries) {
      const problem = this.check(project, entry, faults);
      if (problem) {
        errors.push({
          resource: entry.resource,
          ...(entry.zone ? { zone: entry.zone } : {}),
          ...problem,
        });
        continue;
      }
      const quota = project.quotas
        .get(entry.region)
        ?.get(quotaSlot(entry.resource, entry.zone)) as SimQuota;
      quota.value = entry.value as number;
      applied.push({ ...quota, region: entry.region });
    }
    return { applied, errors };
  }

  /** Returns why an entry cannot be applied, or undefined when it can. */
  private check(
    project: SimProject,
    entry: RequestedEntry & { region: string },
    faults: Fault[],
  ): { message: string; code: number } | undefined {
    const resource = this.resource(entry.resource);
    if (!resource)
      return { message: `unknown resource ${entry.resource}`, code: 400 };
    if ((resource.scope === 'zone') !== (entry.zone !== null)) {
      return {
        message: `zone is ${resource.scope === 'zone' ? 'required' : 'not allowed'}`,
        code: 400,
      };
    }
    const quota = project.quotas
      .get(entry.region)
      ?.get(quotaSlot(entry.resource, entry.zone));
    if (!quota) return { message: `unknown zone ${entry.zone}`, code: 400 };
    const value = entry.value;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
      return { message: 'value must be a non-negative integer', code: 400 };
    }
    if (value % resource.step !== 0) {
      return {
        message: `value must be a multiple of ${resource.step}`,
        code: 400,
      };
    }
    if (value > resource.limit)
      return { message: 'value is over the project limit', code: 400 };
    const rules = this.state.scenario.quotaRules;
    if (rules.rejectBelowUsed && value < quota.used) {
      return {
        message: `value ${value} is below used ${quota.used}`,
        code: 409,
      };
    }
    if (rules.rejectIncrease && value > quota.value) {
      return { message: 'not enough free quota in the account', code: 409 };
    }
    const failing = faults.flatMap((fault) => fault.failEntries ?? []);
    if (failing.some((item) => sameEntry(item, entry))) {
      return { message: 'backend failed to apply the quota', code: 500 };
    }
    return undefined;
  }

  private resource(name: string) {
    return this.state.scenario.resources.find(
      (resource) => resource.name === name,
    );
  }
}

function readQuotaBody(
  body: unknown,
  withRegion: boolean,
): (RequestedEntry & { region?: string })[] | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const quotas = (body as { quotas?: unknown }).quotas;
  if (typeof quotas !== 'object' || quotas === null || Array.isArray(quotas))
    return undefined;
  const entries: (RequestedEntry & { region?: string })[] = [];
  for (const [resource, list] of Object.entries(quotas)) {
    if (!Array.isArray(list)) return undefined;
    for (const item of list as Record<string, unknown>[]) {
      if (typeof item !== 'object' || item === null) return undefined;
      if (!withRegion && 'region' in item) return undefined;
      if (withRegion && typeof item.region !== 'string') return undefined;
      entries.push({
        resource,
        zone: typeof item.zone === 'string' ? item.zone : null,
        value: item.value,
        ...(withRegion ? { region: item.region as string } : {}),
      });
    }
  }
  return entries;
}

function toQuotaMap(
  quotas: SimQuota[],
  withUsed: boolean,
): Record<string, unknown[]> {
  const map: Record<string, unknown[]> = {};
  for (const quota of quotas) {
    const entry: Record<string, unknown> = { value: quota.value };
    if (quota.zone !== null) entry.zone = quota.zone;
    if (withUsed) entry.used = quota.used;
    (map[quota.resource] ??= []).push(entry);
  }
  return map;
}

function sameEntry(
  item: { resource: string; zone?: string | null },
  quota: { resource: string; zone: string | null },
): boolean {
  return item.resource === quota.resource && (item.zone ?? null) === quota.zone;
}

function multiStatus(errors: EntryError[]) {
  return { message: 'Multi-Status', code: 207, errors };
}

function quotaError(
  status: number,
  message: string,
  errors: EntryError[],
): SimResponse {
  return { status, body: { error: { message, code: status, errors } } };
}
