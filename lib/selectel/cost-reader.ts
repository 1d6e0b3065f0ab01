import pLimit from 'p-limit';
import { type Log, silentLog } from '../log.js';
import { SelectelError, SelectelHttpError } from './errors.js';
import type { Bucket, GnocchiClient, MeasureQuery } from './gnocchi.js';
import type { GnocchiResource } from './schemas.js';

/** Result of reading one resource's cost metric from one source. */
export type SeriesRead =
  | { kind: 'ok'; buckets: Bucket[] }
  | { kind: 'missing_metric' }
  | { kind: 'error'; error: Error };

export interface CostReaderOptions {
  /** Requests in flight at once against one source. */
  concurrency?: number;
  /** Resources per `POST /aggregates` call. */
  batchSize?: number;
  /** Skip `/aggregates` and read each resource on its own. */
  perResource?: boolean;
  log?: Log;
}

/**
 * Statuses with which a deployment refuses `POST /aggregates` as a whole;
 * after one of them every read of the run goes resource by resource.
 */
const REFUSED_STATUSES = new Set([400, 403, 404, 405, 501]);

/** Buckets aimed for in one `POST /aggregates` response. */
const MAX_POINTS_PER_BATCH = 50_000;

/**
 * Reads one metric for many resources of one Gnocchi source: in batches
 * through `POST /aggregates`, or one resource at a time when the deployment
 * refuses batches or a batch fails.
 */
export class CostReader {
  private aggregatesRefused: boolean;
  private readonly concurrency: number;
  private readonly batchSize: number;
  private readonly log: Log;

  constructor(
    private readonly gnocchi: GnocchiClient,
    options: CostReaderOptions = {},
  ) {
    this.aggregatesRefused = options.perResource ?? false;
    this.concurrency = options.concurrency ?? 8;
    this.batchSize = options.batchSize ?? 250;
    this.log = options.log ?? silentLog;
  }

  /** Tells whether batch reads were given up for this source. */
  get usesPerResourceReads(): boolean {
    return this.aggregatesRefused;
  }

  async read(
    resources: readonly GnocchiResource[],
    metricName: string,
    query: MeasureQuery,
  ): Promise<Map<string, SeriesRead>> {
    const results = new Map<string, SeriesRead>();
    const withMetric: GnocchiResource[] = [];
    for (const resource of resources) {
      if (resource.metrics[metricName] === undefined) {
        results.set(resource.id, { kind: 'missing_metric' });
      } else {
        withMetric.push(resource);
      }
    }
    // Batches and single reads get separate limits, so a batch that falls
    // back to single reads never waits for a slot that it occupies itself.
    const batchLimit = pLimit(this.concurrency);
    const singleLimit = pLimit(this.concurrency);
    const batches = chunk(withMetric, this.batchSizeFor(query));
    await Promise.all(
      batches.map((batch) =>
        batchLimit(() =>
          this.readBatch(batch, metricName, query, results, singleLimit),
        ),
      ),
    );

    return results;
  }

  /**
   * Projects per batch: at most `batchSize`, and fewer for long series, so
   * that one response stays near MAX_POINTS_PER_BATCH buckets (about 2 MB of
   * JSON) and batches parse while others are still on the wire.
   */
  private batchSizeFor(query: MeasureQuery): number {
    const points = Math.max(
      1,
      Math.ceil(
        (query.stop.getTime() - query.start.getTime()) /
          (query.granularitySeconds * 1000),
      ),
    );

    return Math.max(
      1,
      Math.min(this.batchSize, Math.floor(MAX_POINTS_PER_BATCH / points)),
    );
  }

  private async readBatch(
    batch: GnocchiResource[],
    metricName: string,
    query: MeasureQuery,
    results: Map<string, SeriesRead>,
    limit: ReturnType<typeof pLimit>,
  ): Promise<void> {
    if (!this.aggregatesRefused) {
      try {
        const series = await this.gnocchi.aggregates(
          'sel_project',
          { in: { id: batch.map((resource) => resource.id) } },
          metricName,
          query,
        );
        for (const resource of batch) {
          results.set(resource.id, {
            kind: 'ok',
            buckets: series.get(resource.id) ?? [],
          });
        }
        return;
      } catch (error) {
        this.noteBatchFailure(error);
      }
    }
    await Promise.all(
      batch.map((resource) =>
        limit(async () => {
          results.set(
            resource.id,
            await this.readOne(resource, metricName, query),
          );
        }),
      ),
    );
  }

  private noteBatchFailure(error: unknown): void {
    if (
      error instanceof SelectelHttpError &&
      REFUSED_STATUSES.has(error.status ?? 0)
    ) {
      if (!this.aggregatesRefused) {
        this.log.warn(
          'Gnocchi rejected POST /aggregates, reading each project',
          {
            endpoint: this.gnocchi.baseUrl,
            status: error.status,
          },
        );
      }
      this.aggregatesRefused = true;
      return;
    }
    this.log.warn('Gnocchi batch read failed, reading each project', {
      endpoint: this.gnocchi.baseUrl,
      error: error instanceof SelectelError ? error.toJSON() : String(error),
    });
  }

  private async readOne(
    resource: GnocchiResource,
    metricName: string,
    query: MeasureQuery,
  ): Promise<SeriesRead> {
    try {
      const buckets = await this.gnocchi.measures(
        resource.id,
        metricName,
        query,
      );
      return { kind: 'ok', buckets };
    } catch (error) {
      return { kind: 'error', error: error as Error };
    }
  }
}

function chunk<T>(items: T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let index = 0; index < items.length; index += size) {
    chunks.push(items.slice(index, index + size));
  }

  return chunks;
}
