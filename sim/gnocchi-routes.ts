import type { CostSeries } from './series.js';
import type { SimProject, SimState } from './state.js';
import type { SimRequest, SimResponse } from './types.js';

const CREATED_AT = '2021-04-27T09:00:00+00:00';

/** Gnocchi of one data source, shaped like Selectel's statistics endpoints. */
export class GnocchiRoutes {
  constructor(private readonly state: SimState) {}

  private get config() {
    return this.state.scenario.gnocchi;
  }

  listResources(req: SimRequest): SimResponse {
    const source = req.params.source as string;
    const type = req.params.type as string;
    return this.page(req, this.resourcesOf(source, type));
  }

  search(req: SimRequest): SimResponse {
    const source = req.params.source as string;
    const type = req.params.type as string;
    const filter = req.body ?? {};
    let matched: Record<string, unknown>[];
    try {
      matched = this.resourcesOf(source, type).filter((resource) =>
        matches(filter, resource),
      );
    } catch (error) {
      return gnocchiError(400, 'Bad Request', (error as Error).message);
    }
    return this.page(req, matched);
  }

  metric(req: SimRequest): SimResponse {
    const found = this.findMetric(
      req.params.source as string,
      req.params.id as string,
    );
    if (!found) return gnocchiError(404, 'Not Found', 'Metric does not exist');
    return { status: 200, body: this.metricBody(found.metricId, found.name) };
  }

  measuresByMetricId(req: SimRequest): SimResponse {
    const source = req.params.source as string;
    const found = this.findMetric(source, req.params.id as string);
    if (!found) return gnocchiError(404, 'Not Found', 'Metric does not exist');
    return this.measures(req, found.series);
  }

  measuresByResource(req: SimRequest): SimResponse {
    const source = req.params.source as string;
    const resourceId = req.params.resource as string;
    const metricName = req.params.metric as string;
    const series = this.seriesOf(source, resourceId, metricName);
    if (!series) {
      return gnocchiError(
        404,
        'Not Found',
        `Metric ${metricName} does not exist`,
      );
    }
    return this.measures(req, series);
  }

  aggregates(req: SimRequest): SimResponse {
    if (this.config.refuseAggregates !== undefined) {
      return gnocchiError(
        this.config.refuseAggregates,
        'Refused',
        'Aggregates are not available',
      );
    }
    const source = req.params.source as string;
    const body = (req.body ?? {}) as Record<string, unknown>;
    const operation = /^\(metric (\S+) (\S+)\)$/.exec(
      typeof body.operations === 'string' ? body.operations : '',
    );
    if (!operation || typeof body.resource_type !== 'string') {
      return gnocchiError(400, 'Bad Request', 'Invalid operations');
    }
    const [, metricName, aggregation] = operation as unknown as [
      string,
      string,
      string,
    ];
    const window = this.window(req, aggregation, true);
    if ('status' in window) return window;
    let resources: Record<string, unknown>[];
    try {
      resources = this.resourcesOf(source, body.resource_type).filter(
        (resource) => matches(body.search ?? {}, resource),
      );
    } catch (error) {
      return gnocchiError(400, 'Bad Request', (error as Error).message);
    }
    const measures: Record<string, unknown> = {};
    for (const resource of resources) {
      const series = this.seriesOf(source, String(resource.id), metricName);
      if (!series) continue;
      measures[String(resource.id)] = {
        [metricName]: { [aggregation]: toMeasures(series, window) },
      };
    }
    return { status: 200, body: { references: resources, measures } };
  }

  private measures(req: SimRequest, series: CostSeries): SimResponse {
    const aggregation = req.query.get('aggregation') ?? 'mean';
    const window = this.window(req, aggregation, false);
    if ('status' in window) return window;
    return { status: 200, body: toMeasures(series, window) };
  }

  /** Reads and checks `aggregation`, `granularity`, `start` and `stop`. */
  private window(
    req: SimRequest,
    aggregation: string,
    granularityRequired: boolean,
  ): MeasureWindow | SimResponse {
    const status = granularityRequired ? 400 : 404;
    if (!this.config.aggregationMethods.includes(aggregation)) {
      return gnocchiError(
        status,
        'Not Found',
        `Aggregation method '${aggregation}' does not exist`,
      );
    }
    const granularityText = req.query.get('granularity');
    if (granularityText === null && granularityRequired) {
      return gnocchiError(400, 'Bad Request', 'granularity is required');
    }
    const granularities =
      granularityText === null
        ? [...this.config.granularities].sort((a, b) => b - a)
        : [Number(granularityText)];
    for (const granularity of granularities) {
      if (!this.config.granularities.includes(granularity)) {
        return gnocchiError(
          status,
          'Not Found',
          `Aggregation method '${aggregation}' at granularity '${granularityText}' does not exist`,
        );
      }
    }
    const start = parseTimestamp(
      req.query.get('start'),
      Number.NEGATIVE_INFINITY,
    );
    const stop = parseTimestamp(
      req.query.get('stop'),
      Number.POSITIVE_INFINITY,
    );
    if (Number.isNaN(start))
      return gnocchiError(400, 'Bad Request', 'Invalid value for start');
    if (Number.isNaN(stop))
      return gnocchiError(400, 'Bad Request', 'Invalid value for stop');

    return { granularities, start, stop };
  }

  private page(
    req: SimRequest,
    resources: Record<string, unknown>[],
  ): SimResponse {
    const limit = Math.min(
      Number(req.query.get('limit') ?? this.config.pageLimitMax),
      this.config.pageLimitMax,
    );
    if (!Number.isInteger(limit) || limit <= 0) {
      return gnocchiError(400, 'Bad Request', 'Invalid value for limit');
    }
    const sorted = [...resources].sort((a, b) =>
      String(a.id).localeCompare(String(b.id)),
    );
    const marker = req.query.get('marker');
    let from = 0;
    if (marker !== null) {
      const index = sorted.findIndex((resource) => resource.id === marker);
      if (index < 0)
        return gnocchiError(400, 'Bad Request', `Invalid marker: ${marker}`);
      from = index + 1;
    }
    const page = sorted.slice(from, from + limit);
    const headers: Record<string, string> = {};
    const last = page.at(-1);
    if (page.length === limit && last) {
      const next = new URLSearchParams({
        limit: String(limit),
        marker: String(last.id),
      });
      headers.link = `<${req.baseUrl}${req.path}?${next.toString()}>; rel="next"`;
    }
    return { status: 200, body: page, headers };
  }

  private resourcesOf(source: string, type: string): Record<string, unknown>[] {
    if (type === 'sel_account') return [this.accountResource(source)];
    if (type !== 'sel_project' && type !== 'generic') return [];
    const projects = [...this.state.projects.values()]
      .filter((project) => !project.absentFromGnocchi)
      .map((project) => this.projectResource(source, project));
    return type === 'generic'
      ? [this.accountResource(source), ...projects]
      : projects;
  }

  private accountResource(source: string): Record<string, unknown> {
    return {
      creator: '---',
      started_at: '2020-08-30T10:16:17.244227+00:00',
      revision_start: '2020-08-30T10:16:17.404943+00:00',
      ended_at: null,
      user_id: null,
      project_id: this.state.accountHexId,
      original_resource_id: this.state.accountHexId,
      id: this.state.accountResourceId,
      type: 'sel_account',
      name: this.state.scenario.account,
      revision_end: null,
      metrics: {
        [this.config.accountMetric]: this.state.accountMetricId(source),
      },
      created_by_user_id: 'a0e0123e8c364232b1234dbb31ce1a5e',
      created_by_project_id: '5e200c6ffe184b9f8b69344d36123456',
    };
  }

  private projectResource(
    source: string,
    project: SimProject,
  ): Record<string, unknown> {
    const metrics: Record<string, string> = {};
    if (project.series.has(source) && !project.missingMetric) {
      metrics[this.config.projectMetric] = this.state.metricId(
        project.id,
        source,
      );
    }
    return {
      creator: '---',
      started_at: CREATED_AT,
      revision_start: '2021-04-27T10:42:02.957886+00:00',
      ended_at: null,
      user_id: null,
      project_id: this.state.accountHexId,
      original_resource_id: project.id,
      id: project.resourceId,
      type: 'sel_project',
      parent_id: this.state.accountResourceId,
      name: project.name,
      revision_end: null,
      metrics,
      created_by_user_id: 'ec05e123a2b64596bf1e12c4b80139c1',
      created_by_project_id: '5e204c6ffe123b9f8b69344d36178355',
    };
  }

  private seriesOf(
    source: string,
    resourceId: string,
    metricName: string,
  ): CostSeries | undefined {
    if (resourceId === this.state.accountResourceId) {
      return metricName === this.config.accountMetric
        ? this.state.accountSeries(source)
        : undefined;
    }
    const project = this.state.project(resourceId);
    if (!project || project.absentFromGnocchi || project.missingMetric)
      return undefined;
    if (metricName !== this.config.projectMetric) return undefined;
    return project.series.get(source);
  }

  private findMetric(source: string, metricId: string) {
    if (metricId === this.state.accountMetricId(source)) {
      return {
        metricId,
        name: this.config.accountMetric,
        series: this.state.accountSeries(source),
      };
    }
    for (const project of this.state.projects.values()) {
      const series = project.series.get(source);
      if (
        series &&
        !project.missingMetric &&
        this.state.metricId(project.id, source) === metricId
      ) {
        return { metricId, name: this.config.projectMetric, series };
      }
    }
    return undefined;
  }

  private metricBody(metricId: string, name: string): Record<string, unknown> {
    return {
      id: metricId,
      name,
      unit: null,
      creator: '---',
      archive_policy: {
        name: 'selectel-billing',
        back_window: 0,
        definition: this.config.granularities.map((granularity) => ({
          granularity: timedelta(granularity),
          points: Math.round((90 * 86_400) / granularity),
          timespan: timedelta(90 * 86_400),
        })),
        aggregation_methods: this.config.aggregationMethods,
      },
    };
  }
}

interface MeasureWindow {
  granularities: number[];
  start: number;
  stop: number;
}

function toMeasures(
  series: CostSeries,
  window: MeasureWindow,
): [string, number, number][] {
  return window.granularities.flatMap((granularity) =>
    series
      .buckets(granularity, window.start, window.stop)
      .map(([startMs, value]): [string, number, number] => [
        isoInstant(startMs),
        granularity,
        value,
      ]),
  );
}

/** Parses a Gnocchi timestamp; absent means unbounded, naive means UTC. */
function parseTimestamp(text: string | null, unbounded: number): number {
  if (text === null) return unbounded;
  const naive = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text);
  return Date.parse(naive ? `${text}Z` : text);
}

function timedelta(seconds: number): string {
  const days = Math.floor(seconds / 86_400);
  const rest = seconds % 86_400;
  const hms = `${Math.floor(rest / 3600)}:${String(Math.floor((rest % 3600) / 60)).padStart(2, '0')}:${String(rest % 60).padStart(2, '0')}`;
  return days > 0 ? `${days} day${days > 1 ? 's' : ''}, ${hms}` : hms;
}

/** Evaluates Gnocchi's search language (`=`, `in`, `and`, `or`, `not`). */
function matches(filter: unknown, resource: Record<string, unknown>): boolean {
  if (typeof filter !== 'object' || filter === null)
    throw new Error('Invalid filter');
  const entries = Object.entries(filter);
  if (entries.length === 0) return true;
  return entries.every(([operator, operand]) => {
    switch (operator) {
      case '=':
      case '==':
      case 'eq':
        return compare(
          operand,
          (value, expected) => value === expected,
          resource,
        );
      case '!=':
      case 'ne':
        return compare(
          operand,
          (value, expected) => value !== expected,
          resource,
        );
      case 'in':
        return compare(
          operand,
          (value, expected) =>
            Array.isArray(expected) && expected.includes(value),
          resource,
        );
      case 'and':
        return (operand as unknown[]).every((item) => matches(item, resource));
      case 'or':
        return (operand as unknown[]).some((item) => matches(item, resource));
      case 'not':
        return !matches(operand, resource);
      default:
        throw new Error(`Unknown operator ${operator}`);
    }
  });
}

function compare(
  operand: unknown,
  test: (value: unknown, expected: unknown) => boolean,
  resource: Record<string, unknown>,
): boolean {
  if (typeof operand !== 'object' || operand === null)
    throw new Error('Invalid filter');
  return Object.entries(operand).every(([field, expected]) =>
    test(resource[field], expected),
  );
}

export function gnocchiError(
  status: number,
  title: string,
  description: string,
): SimResponse {
  return { status, body: { code: status, title, description } };
}

const isoCache = new Map<number, string>();

/** Formats a bucket start as Gnocchi does; starts repeat, so they are cached. */
function isoInstant(ms: number): string {
  let text = isoCache.get(ms);
  if (text === undefined) {
    text = new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+00:00');
    if (isoCache.size >= 100_000) isoCache.clear();
    isoCache.set(ms, text);
  }
  return text;
}
