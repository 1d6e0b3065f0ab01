import type { SeriesSpec } from './scenario.js';
import { CostSeries } from './series.js';
import { dashed, projectIdFor, type Scenario, stableUuid } from './scenario.js';

/** One quota of a simulated project. */
export interface SimQuota {
  resource: string;
  zone: string | null;
  value: number;
  used: number;
}

export interface SimProject {
  id: string;
  name: string;
  enabled: boolean;
  /** Gnocchi resource id: the dashed form of `id`. */
  resourceId: string;
  missingMetric: boolean;
  absentFromGnocchi: boolean;
  /** Cost series by Gnocchi source; a source without one has no cost metric. */
  series: Map<string, CostSeries>;
  /** Quotas by region, keyed `resource/zone`. */
  quotas: Map<string, Map<string, SimQuota>>;
}

/** The simulated account: projects, their costs and their quotas. */
export class SimState {
  readonly projects = new Map<string, SimProject>();
  readonly accountResourceId: string;
  readonly accountHexId: string;

  constructor(
    readonly scenario: Scenario,
    nowMs: number,
  ) {
    this.accountHexId = stableUuid(`account:${scenario.account}`).replaceAll(
      '-',
      '',
    );
    this.accountResourceId = dashed(this.accountHexId);
    for (const spec of scenario.projects) {
      const id = spec.id ?? projectIdFor(spec.name);
      if (this.projects.has(id)) {
        throw new Error(
          `duplicate project id ${id} (${spec.name}) in scenario`,
        );
      }
      this.projects.set(id, {
        id,
        name: spec.name,
        enabled: spec.enabled,
        resourceId: dashed(id),
        missingMetric: spec.missingMetric,
        absentFromGnocchi: spec.absentFromGnocchi,
        series: this.buildSeries(spec.costs, nowMs),
        quotas: this.buildQuotas(spec.quotas),
      });
    }
  }

  /** Finds a project by 32-hex id or by Gnocchi resource id. */
  project(id: string): SimProject | undefined {
    return this.projects.get(id.replaceAll('-', '').toLowerCase());
  }

  metricId(projectId: string, source: string): string {
    return stableUuid(`metric:${source}:${projectId}`);
  }

  accountMetricId(source: string): string {
    return stableUuid(`account-metric:${source}:${this.scenario.account}`);
  }

  /** Sum of every project's series in a source. */
  accountSeries(source: string): CostSeries {
    const total = new CostSeries();
    for (const project of this.projects.values()) {
      const series = project.series.get(source);
      if (series) total.addAll(series);
    }

    return total;
  }

  zonesOf(region: string): string[] {
    return (
      this.scenario.regions.find((item) => item.name === region)?.zones ?? []
    );
  }

  private buildSeries(
    costs: Scenario['projects'][number]['costs'],
    nowMs: number,
  ): Map<string, CostSeries> {
    const sources = this.scenario.gnocchi.sources;
    const first = sources[0] as string;
    const series = new Map<string, CostSeries>();
    if (costs === undefined) {
      series.set(first, new CostSeries());
    } else if (isSeriesSpec(costs)) {
      series.set(first, CostSeries.fromSpec(costs, nowMs));
    } else {
      for (const [source, spec] of Object.entries(costs)) {
        if (!sources.includes(source)) {
          throw new Error(
            `scenario costs name source ${source}; known sources: ${sources.join(', ')}`,
          );
        }
        series.set(source, CostSeries.fromSpec(spec, nowMs));
      }
    }

    return series;
  }

  private buildQuotas(
    given: Scenario['projects'][number]['quotas'],
  ): Map<string, Map<string, SimQuota>> {
    const quotas = new Map<string, Map<string, SimQuota>>();
    for (const region of this.scenario.regions) {
      const entries = new Map<string, SimQuota>();
      for (const resource of this.scenario.resources) {
        const zones = resource.scope === 'zone' ? region.zones : [null];
        for (const zone of zones) {
          entries.set(quotaSlot(resource.name, zone), {
            resource: resource.name,
            zone,
            value: 0,
            used: 0,
          });
        }
      }
      for (const [resource, list] of Object.entries(given[region.name] ?? {})) {
        for (const entry of list) {
          const zone = entry.zone ?? null;
          const slot = quotaSlot(resource, zone);
          if (!entries.has(slot)) {
            throw new Error(
              `scenario quota ${region.name}/${zone ?? '-'}/${resource} does not match a region zone and resource scope`,
            );
          }
          entries.set(slot, {
            resource,
            zone,
            value: entry.value,
            used: entry.used,
          });
        }
      }
      quotas.set(region.name, entries);
    }

    return quotas;
  }
}

export function quotaSlot(resource: string, zone: string | null): string {
  return `${resource}/${zone ?? '-'}`;
}

function isSeriesSpec(
  value: SeriesSpec | Record<string, SeriesSpec>,
): value is SeriesSpec {
  return 'hourly' in value || 'daily' in value || 'generate' in value;
}
