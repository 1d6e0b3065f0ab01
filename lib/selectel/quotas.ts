import type * as z from 'zod';
import {
  type QuotaEntryError,
  SelectelError,
  SelectelHttpError,
} from './errors.js';
import {
  readEntryErrors,
  type SelectelHttp,
  type TokenSource,
} from './http.js';
import {
  LegacyQuotasSchema,
  type QuotaManagerEntrySchema,
  QuotaManagerLimitsSchema,
  QuotaManagerQuotasSchema,
} from './schemas.js';

/** One quota of a project: a resource in a region, and a zone when zonal. */
export interface QuotaKey {
  region: string;
  /** `null` for region-wide resources. */
  zone: string | null;
  resource: string;
}

export interface QuotaValue extends QuotaKey {
  value: number;
  /** What the project uses now; absent from limits and PATCH responses. */
  used: number | null;
}

export interface QuotaTarget extends QuotaKey {
  value: number;
}

/** A quota entry Selectel did not read or apply, with its region. */
export interface FailedQuota extends QuotaEntryError {
  region: string;
}

/** Quotas as read; a 207 lists the entries that could not be read. */
export interface QuotaReadResult {
  quotas: QuotaValue[];
  failed: FailedQuota[];
  /** Regions whose read failed outright, with the reason. */
  unreadRegions: { region: string; message: string }[];
}

/**
 * Outcome of a PATCH. `applied` is what Selectel confirmed, `failed` names
 * every entry it did not apply; a 207 fills both.
 */
export interface QuotaPatchResult {
  applied: QuotaValue[];
  failed: FailedQuota[];
  /** HTTP status of each region's response. */
  statuses: Record<string, number>;
}

/** The quota operations the guard needs, whichever Selectel API serves them. */
export interface QuotaApi {
  readonly kind: 'quota-manager' | 'resell';
  /** Regions whose quotas are read and changed. */
  regions(): Promise<string[]>;
  read(projectId: string): Promise<QuotaReadResult>;
  limits(projectId: string): Promise<QuotaValue[]>;
  patch(projectId: string, targets: QuotaTarget[]): Promise<QuotaPatchResult>;
}

type QuotaMap = Record<string, z.infer<typeof QuotaManagerEntrySchema>[]>;

/**
 * Quota Management API: one endpoint per region; zones go in the body and
 * region-wide resources carry no zone.
 */
export class QuotaManagerApi implements QuotaApi {
  readonly kind = 'quota-manager';

  constructor(
    private readonly http: SelectelHttp,
    private readonly auth: TokenSource,
    private readonly endpoints: () => Promise<Record<string, string>>,
  ) {}

  async regions(): Promise<string[]> {
    return Object.keys(await this.endpoints()).sort();
  }

  /** Reads every region; a region that fails is listed, the others kept. */
  async read(projectId: string): Promise<QuotaReadResult> {
    const endpoints = await this.endpoints();
    const regions = Object.keys(endpoints).sort();
    const settled = await Promise.allSettled(
      regions.map(async (region) => {
        const result = await this.http.send({
          baseUrl: endpoints[region] as string,
          method: 'GET',
          path: quotasPath(projectId),
          schema: QuotaManagerQuotasSchema,
          okStatuses: [200, 207],
          auth: this.auth,
        });
        return {
          quotas: fromQuotaMap(region, result.data.quotas, true),
          failed: withRegion(
            region,
            readEntryErrors(result.data.error?.errors),
          ),
        };
      }),
    );
    const read: QuotaReadResult = { quotas: [], failed: [], unreadRegions: [] };
    settled.forEach((outcome, index) => {
      if (outcome.status === 'fulfilled') {
        read.quotas.push(...outcome.value.quotas);
        read.failed.push(...outcome.value.failed);
        return;
      }
      const reason = outcome.reason as unknown;
      read.unreadRegions.push({
        region: regions[index] as string,
        message: reason instanceof Error ? reason.message : String(reason),
      });
    });

    return read;
  }

  async limits(projectId: string): Promise<QuotaValue[]> {
    const results = await this.eachRegion(async (region, baseUrl) => {
      const result = await this.http.send({
        baseUrl,
        method: 'GET',
        path: `/projects/${encodeURIComponent(projectId)}/limits`,
        schema: QuotaManagerLimitsSchema,
        auth: this.auth,
      });
      return fromQuotaMap(region, result.data, false);
    });

    return results.flat();
  }

  /**
   * Sends one PATCH per region. A region whose request fails outright lists
   * each of its entries as failed, and the other regions' results are kept.
   */
  async patch(
    projectId: string,
    targets: QuotaTarget[],
  ): Promise<QuotaPatchResult> {
    const endpoints = await this.endpoints();
    const byRegion = [...groupBy(targets, (target) => target.region)];
    const settled = await Promise.allSettled(
      byRegion.map(([region, entries]) =>
        this.patchRegion(projectId, region, endpoints[region], entries),
      ),
    );
    const result: QuotaPatchResult = { applied: [], failed: [], statuses: {} };
    settled.forEach((outcome, index) => {
      const [region, entries] = byRegion[index] as [string, QuotaTarget[]];
      if (outcome.status === 'fulfilled') {
        result.applied.push(...outcome.value.applied);
        result.failed.push(...outcome.value.failed);
        result.statuses[region] = outcome.value.status;
        return;
      }
      result.failed.push(...rejectedEntries(entries, outcome.reason));
      result.statuses[region] = statusOf(outcome.reason);
    });

    return result;
  }

  private async patchRegion(
    projectId: string,
    region: string,
    baseUrl: string | undefined,
    entries: QuotaTarget[],
  ) {
    if (!baseUrl) {
      throw new Error(
        `no quota manager endpoint for region ${region}; add it under endpoints.quotaManager`,
      );
    }
    const result = await this.http.send({
      baseUrl,
      method: 'PATCH',
      path: quotasPath(projectId),
      body: { quotas: toQuotaMap(entries) },
      schema: QuotaManagerQuotasSchema,
      okStatuses: [200, 207],
      auth: this.auth,
    });

    return {
      status: result.status,
      applied: fromQuotaMap(region, result.data.quotas, false),
      failed: withRegion(region, readEntryErrors(result.data.error?.errors)),
    };
  }

  private async eachRegion<T>(
    read: (region: string, baseUrl: string) => Promise<T>,
  ): Promise<T[]> {
    const endpoints = await this.endpoints();

    return Promise.all(
      Object.keys(endpoints)
        .sort()
        .map((region) => read(region, endpoints[region] as string)),
    );
  }
}

/**
 * Legacy resell v2 `/quotas/projects/{id}`: every region in one call, with
 * `region` in each entry.
 */
export class LegacyResellQuotaApi implements QuotaApi {
  readonly kind = 'resell';

  constructor(
    private readonly http: SelectelHttp,
    private readonly auth: TokenSource,
    private readonly resellUrl: string,
    private readonly regionFilter?: readonly string[],
  ) {}

  async regions(): Promise<string[]> {
    return [...(this.regionFilter ?? [])].sort();
  }

  async read(projectId: string): Promise<QuotaReadResult> {
    const result = await this.http.send({
      baseUrl: this.resellUrl,
      method: 'GET',
      path: `/quotas/projects/${encodeURIComponent(projectId)}`,
      schema: LegacyQuotasSchema,
      auth: this.auth,
    });
    const quotas: QuotaValue[] = [];
    for (const [resource, entries] of Object.entries(result.data.quotas)) {
      for (const entry of entries) {
        if (!this.includes(entry.region)) continue;
        quotas.push({
          region: entry.region,
          zone: entry.zone ?? null,
          resource,
          value: entry.value,
          used: entry.used ?? null,
        });
      }
    }

    return { quotas, failed: [], unreadRegions: [] };
  }

  async limits(): Promise<QuotaValue[]> {
    return [];
  }

  async patch(
    projectId: string,
    targets: QuotaTarget[],
  ): Promise<QuotaPatchResult> {
    const body: Record<
      string,
      { region: string; zone?: string; value: number }[]
    > = {};
    for (const target of targets) {
      const entry = { region: target.region, value: target.value };
      (body[target.resource] ??= []).push(
        target.zone === null ? entry : { ...entry, zone: target.zone },
      );
    }
    let result: Awaited<ReturnType<typeof this.sendLegacyPatch>>;
    try {
      result = await this.sendLegacyPatch(projectId, body);
    } catch (error) {
      return {
        applied: [],
        failed: rejectedEntries(targets, error),
        statuses: { resell: statusOf(error) },
      };
    }
    const applied = Object.entries(result.data.quotas).flatMap(
      ([resource, entries]) =>
        entries.map((entry) => ({
          region: entry.region,
          zone: entry.zone ?? null,
          resource,
          value: entry.value,
          used: null,
        })),
    );

    return { applied, failed: [], statuses: { resell: result.status } };
  }

  private sendLegacyPatch(projectId: string, body: unknown) {
    return this.http.send({
      baseUrl: this.resellUrl,
      method: 'PATCH',
      path: `/quotas/projects/${encodeURIComponent(projectId)}`,
      body: { quotas: body },
      schema: LegacyQuotasSchema,
      okStatuses: [200, 207],
      auth: this.auth,
    });
  }

  private includes(region: string): boolean {
    return (
      this.regionFilter === undefined || this.regionFilter.includes(region)
    );
  }
}

/**
 * Lists every entry of a rejected request as failed, with Selectel's own
 * message for the entries its error body names.
 */
function rejectedEntries(
  entries: QuotaTarget[],
  error: unknown,
): FailedQuota[] {
  const named = error instanceof SelectelHttpError ? error.entries : [];
  const message = error instanceof Error ? error.message : String(error);

  return entries.map((entry) => {
    const match = named.find(
      (item) =>
        item.resource === entry.resource &&
        (item.zone === null || item.zone === entry.zone),
    );
    return {
      region: entry.region,
      zone: entry.zone,
      resource: entry.resource,
      message: match?.message || message,
      code: match?.code ?? statusOf(error),
    };
  });
}

function statusOf(error: unknown): number {
  return error instanceof SelectelError && error.status !== undefined
    ? error.status
    : 0;
}

function quotasPath(projectId: string): string {
  return `/projects/${encodeURIComponent(projectId)}/quotas`;
}

function fromQuotaMap(
  region: string,
  quotas: QuotaMap,
  withUsed: boolean,
): QuotaValue[] {
  return Object.entries(quotas).flatMap(([resource, entries]) =>
    entries.map((entry) => ({
      region,
      zone: entry.zone ?? null,
      resource,
      value: entry.value,
      used: withUsed ? (entry.used ?? null) : null,
    })),
  );
}

function toQuotaMap(
  targets: QuotaTarget[],
): Record<string, { zone?: string; value: number }[]> {
  const quotas: Record<string, { zone?: string; value: number }[]> = {};
  for (const target of targets) {
    (quotas[target.resource] ??= []).push(
      target.zone === null
        ? { value: target.value }
        : { zone: target.zone, value: target.value },
    );
  }

  return quotas;
}

function withRegion(region: string, errors: QuotaEntryError[]): FailedQuota[] {
  return errors.map((error) => ({ ...error, region }));
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const name = key(item);
    const group = groups.get(name);
    if (group) group.push(item);
    else groups.set(name, [item]);
  }

  return groups;
}

/** Identifies a quota entry as `region/zone/resource`, zone `-` when region-wide. */
export function quotaKey(key: QuotaKey): string {
  return `${key.region}/${key.zone ?? '-'}/${key.resource}`;
}
