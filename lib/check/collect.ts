import type { Config } from '../config/schema.js';
import type { SourceSeries } from '../costs/spend.js';
import type { Log } from '../log.js';
import { CostReader, type SeriesRead } from '../selectel/cost-reader.js';
import { SelectelError } from '../selectel/errors.js';
import type { GnocchiClient, MeasureQuery } from '../selectel/gnocchi.js';
import type { SelectelClient } from '../selectel/client.js';
import type { GnocchiResource, Project } from '../selectel/schemas.js';

/** Projects and their cost series from every configured data source. */
export interface CollectedCosts {
  projects: Project[];
  /** Per project id, one entry per Gnocchi source, in config order. */
  series: Map<string, SourceSeries[]>;
  /** The account's own cost metric per source, when an account budget is set. */
  account: SourceSeries[] | null;
  warnings: string[];
}

/**
 * Reads the project list from the Cloud Management API and each project's
 * cost series from every Gnocchi source. A failing source marks every
 * project's entry for it as an error instead of leaving a smaller total.
 */
export async function collectCosts(
  selectel: SelectelClient,
  config: Config,
  query: MeasureQuery,
  log: Log,
): Promise<CollectedCosts> {
  const projects = await selectel.resell.listProjects();
  const series = new Map<string, SourceSeries[]>(
    projects.map((project) => [project.id, []]),
  );
  const account: SourceSeries[] | null = config.budgets.account ? [] : null;
  const warnings: string[] = [];
  const results = await Promise.all(
    selectel.gnocchi.map((gnocchi) =>
      readSource(gnocchi, projects, config, query, log),
    ),
  );
  for (const result of results) {
    for (const project of projects) {
      series
        .get(project.id)
        ?.push(result.projects.get(project.id) ?? { kind: 'absent' });
    }
    account?.push(result.account);
    warnings.push(...result.warnings);
  }

  return { projects, series, account, warnings };
}

interface SourceResult {
  projects: Map<string, SourceSeries>;
  account: SourceSeries;
  warnings: string[];
}

async function readSource(
  gnocchi: GnocchiClient,
  projects: readonly Project[],
  config: Config,
  query: MeasureQuery,
  log: Log,
): Promise<SourceResult> {
  const wanted = new Set(projects.map((project) => project.id));
  let accountResource: GnocchiResource | undefined;
  let resources: GnocchiResource[];
  try {
    accountResource = await gnocchi.accountResource(config.account);
    resources = await gnocchi.listProjects(accountResource?.id);
  } catch (error) {
    const message = describeFailure(gnocchi, error);
    log.error('Gnocchi source failed', {
      endpoint: gnocchi.baseUrl,
      error: errorDetails(error),
    });
    const failed: SourceSeries = { kind: 'error', message };
    return {
      projects: new Map(projects.map((project) => [project.id, failed])),
      account: failed,
      warnings: [],
    };
  }
  const byProject = new Map<string, GnocchiResource>();
  for (const resource of resources) {
    const projectId = (resource.original_resource_id ?? resource.id).replaceAll(
      '-',
      '',
    );
    if (wanted.has(projectId)) byProject.set(projectId, resource);
  }
  const reader = new CostReader(gnocchi, {
    concurrency: config.costs.concurrency,
    batchSize: config.costs.batchSize,
    log,
  });
  const reads = await reader.read(
    [...byProject.values()],
    config.costs.metric,
    query,
  );
  const result = new Map<string, SourceSeries>();
  for (const [projectId, resource] of byProject) {
    result.set(projectId, toSourceSeries(gnocchi, reads.get(resource.id)));
  }
  const warnings = reader.usesPerResourceReads
    ? [
        `${gnocchi.baseUrl} rejected POST /aggregates; costs were read one project at a time`,
      ]
    : [];

  return {
    projects: result,
    account: config.budgets.account
      ? await readAccount(
          gnocchi,
          accountResource,
          config.costs.accountMetric,
          query,
        )
      : { kind: 'absent' },
    warnings,
  };
}

async function readAccount(
  gnocchi: GnocchiClient,
  resource: GnocchiResource | undefined,
  metric: string,
  query: MeasureQuery,
): Promise<SourceSeries> {
  if (!resource) return { kind: 'absent' };
  if (resource.metrics[metric] === undefined) return { kind: 'missing_metric' };
  try {
    return {
      kind: 'ok',
      buckets: await gnocchi.measures(resource.id, metric, query),
    };
  } catch (error) {
    return { kind: 'error', message: describeFailure(gnocchi, error) };
  }
}

function toSourceSeries(
  gnocchi: GnocchiClient,
  read: SeriesRead | undefined,
): SourceSeries {
  if (!read) return { kind: 'absent' };
  if (read.kind === 'error')
    return { kind: 'error', message: describeFailure(gnocchi, read.error) };

  return read;
}

/** Describes a failed read for reports: endpoint, code and status, never a secret. */
export function describeFailure(
  gnocchi: { baseUrl: string },
  error: unknown,
): string {
  const host = safeHost(gnocchi.baseUrl);
  if (!(error instanceof SelectelError)) {
    return `reading costs from ${host} failed: ${error instanceof Error ? error.message : String(error)}`;
  }
  const hint =
    error.status === 404 && error.path.endsWith('/measures')
      ? '; the metric, granularity or aggregation may not exist (run budget-guard discover)'
      : '';

  return `reading costs from ${host} failed: ${error.message} [${error.code}]${hint}`;
}

export function errorDetails(error: unknown): unknown {
  return error instanceof SelectelError
    ? error.toJSON()
    : error instanceof Error
      ? error.message
      : error;
}

function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
