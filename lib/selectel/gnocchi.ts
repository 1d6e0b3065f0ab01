import { SelectelResponseError } from './errors.js';
import type { SelectelHttp, TokenSource } from './http.js';
import {
  AggregatesSchema,
  type GnocchiMetric,
  GnocchiMetricSchema,
  type GnocchiResource,
  GnocchiResourceListSchema,
  MeasureListSchema,
} from './schemas.js';

/** One Gnocchi bucket: its start, its length and its aggregated value. */
export interface Bucket {
  startMs: number;
  granularitySeconds: number;
  value: number;
}

export interface MeasureQuery {
  aggregation: string;
  granularitySeconds: number;
  start: Date;
  /** Exclusive. */
  stop: Date;
}

/** Gnocchi's resource search language, such as `{"=":{"parent_id":"…"}}`. */
export type ResourceFilter = Record<string, unknown>;

export interface GnocchiOptions {
  baseUrl: string;
  /** Page size for resource listings; Gnocchi's server maximum is often 1000. */
  pageLimit?: number;
}

/** Client of one Gnocchi endpoint (one data source) for consumption data. */
export class GnocchiClient {
  readonly baseUrl: string;
  private readonly pageLimit: number;

  constructor(
    private readonly http: SelectelHttp,
    private readonly auth: TokenSource,
    options: GnocchiOptions,
  ) {
    this.baseUrl = options.baseUrl;
    this.pageLimit = options.pageLimit ?? 1000;
  }

  /** Finds the `sel_account` resource, preferring the one named `account`. */
  async accountResource(
    account?: string,
  ): Promise<GnocchiResource | undefined> {
    const resources = await this.listResources('sel_account');

    return (
      resources.find((resource) => resource.name === account) ?? resources[0]
    );
  }

  /** Lists the account's `sel_project` resources, searching by parent when given. */
  listProjects(parentId?: string): Promise<GnocchiResource[]> {
    return parentId === undefined
      ? this.listResources('sel_project')
      : this.searchResources('sel_project', { '=': { parent_id: parentId } });
  }

  /** Lists every resource of a type, page by page, each exactly once. */
  listResources(type: string): Promise<GnocchiResource[]> {
    return this.paginate('GET', `/resource/${encodeURIComponent(type)}`);
  }

  /** Searches resources of a type with a filter, page by page. */
  searchResources(
    type: string,
    filter: ResourceFilter,
  ): Promise<GnocchiResource[]> {
    return this.paginate(
      'POST',
      `/search/resource/${encodeURIComponent(type)}`,
      filter,
    );
  }

  /** Reads a metric with its archive policy (granularities and aggregations). */
  async metric(metricId: string): Promise<GnocchiMetric> {
    const result = await this.http.send({
      baseUrl: this.baseUrl,
      method: 'GET',
      path: `/metric/${encodeURIComponent(metricId)}`,
      schema: GnocchiMetricSchema,
      auth: this.auth,
    });

    return result.data;
  }

  /** Reads one resource's metric measures; a metric with no data gives `[]`. */
  async measures(
    resourceId: string,
    metricName: string,
    query: MeasureQuery,
  ): Promise<Bucket[]> {
    const path =
      `/resource/generic/${encodeURIComponent(resourceId)}` +
      `/metric/${encodeURIComponent(metricName)}/measures`;
    const result = await this.http.send({
      baseUrl: this.baseUrl,
      method: 'GET',
      path,
      query: {
        aggregation: query.aggregation,
        granularity: query.granularitySeconds,
        start: formatInstant(query.start),
        stop: formatInstant(query.stop),
      },
      schema: MeasureListSchema,
      auth: this.auth,
    });

    return toBuckets(result.data, 'GET', path);
  }

  /**
   * Reads one metric of many resources in one `POST /aggregates` call.
   * Resources without data are absent from the returned map.
   */
  async aggregates(
    resourceType: string,
    filter: ResourceFilter,
    metricName: string,
    query: MeasureQuery,
  ): Promise<Map<string, Bucket[]>> {
    const result = await this.http.send({
      baseUrl: this.baseUrl,
      method: 'POST',
      path: '/aggregates',
      query: {
        start: formatInstant(query.start),
        stop: formatInstant(query.stop),
        granularity: query.granularitySeconds,
        details: 'true',
      },
      body: {
        resource_type: resourceType,
        search: filter,
        operations: `(metric ${metricName} ${query.aggregation})`,
      },
      schema: AggregatesSchema,
      auth: this.auth,
    });
    const series = new Map<string, Bucket[]>();
    for (const [resourceId, metrics] of Object.entries(result.data.measures)) {
      const measures = metrics[metricName]?.[query.aggregation] ?? [];
      series.set(resourceId, toBuckets(measures, 'POST', '/aggregates'));
    }

    return series;
  }

  private async paginate(
    method: 'GET' | 'POST',
    path: string,
    body?: ResourceFilter,
  ): Promise<GnocchiResource[]> {
    const seen = new Map<string, GnocchiResource>();
    let marker: string | undefined;
    for (;;) {
      const result = await this.http.send({
        baseUrl: this.baseUrl,
        method,
        path,
        query: { limit: this.pageLimit, marker },
        body,
        schema: GnocchiResourceListSchema,
        auth: this.auth,
      });
      for (const resource of result.data) seen.set(resource.id, resource);
      const next = nextMarker(result.headers.link, result.data, this.pageLimit);
      if (next === undefined || next === marker) break;
      marker = next;
    }

    return [...seen.values()];
  }
}

/**
 * Picks the marker of the next page. A `Link: <…>; rel="next"` header is
 * followed when present, but only its `marker` is taken, so the token never
 * goes to a host other than the configured one. Without the header, a full
 * page means there may be more.
 */
function nextMarker(
  link: string | string[] | undefined,
  page: GnocchiResource[],
  pageLimit: number,
): string | undefined {
  const header = Array.isArray(link) ? link.join(', ') : link;
  if (header) {
    const next = /<([^>]+)>\s*;\s*rel="?next"?/.exec(header);
    if (!next?.[1]) return undefined;
    const marker = new URL(next[1], 'http://link.invalid').searchParams.get(
      'marker',
    );
    return marker ?? page.at(-1)?.id;
  }

  return page.length >= pageLimit ? page.at(-1)?.id : undefined;
}

/** Formats an instant as ISO 8601 with an explicit `+00:00` offset. */
export function formatInstant(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, '+00:00');
}

/**
 * Converts Gnocchi's `[start, granularity, value]` entries to buckets,
 * rejecting any entry of another shape. Bucket starts repeat across the
 * series of a batch, so parsed timestamps are kept in a small cache.
 */
function toBuckets(
  measures: readonly unknown[],
  method: string,
  path: string,
): Bucket[] {
  const buckets = new Array<Bucket>(measures.length);
  for (let index = 0; index < measures.length; index++) {
    const entry = measures[index];
    const [start, granularitySeconds, value]: unknown[] = Array.isArray(entry)
      ? (entry as unknown[])
      : [];
    const startMs =
      typeof start === 'string' ? parseInstant(start) : Number.NaN;
    if (
      !Array.isArray(entry) ||
      entry.length !== 3 ||
      Number.isNaN(startMs) ||
      typeof granularitySeconds !== 'number' ||
      typeof value !== 'number' ||
      !Number.isFinite(value) ||
      Math.abs(value) > MAX_BUCKET_KOPECKS
    ) {
      throw new SelectelResponseError({
        method,
        path,
        status: 200,
        issues: [
          `invalid measure at ${index}: ${JSON.stringify(entry)?.slice(0, 100)}`,
        ],
      });
    }
    buckets[index] = { startMs, granularitySeconds, value };
  }

  return buckets;
}

/**
 * Largest bucket value taken as real: 100 billion rubles. Anything larger is
 * a broken response, and summing it would lose the exactness of the sums.
 */
const MAX_BUCKET_KOPECKS = 1e13;

const instantCache = new Map<string, number>();

function parseInstant(text: string): number {
  let ms = instantCache.get(text);
  if (ms === undefined) {
    ms = Date.parse(text);
    if (instantCache.size >= 10_000) instantCache.clear();
    instantCache.set(text, ms);
  }

  return ms;
}
