import pLimit from 'p-limit';
import { describeFailure } from '../check/collect.js';
import type { GnocchiClient } from '../selectel/gnocchi.js';
import type { GnocchiResource } from '../selectel/schemas.js';
import { table } from '../check/report.js';
import type { CommandContext } from './main.js';

interface MetricInfo {
  metricId: string;
  policy: string | null;
  granularities: number[];
  aggregationMethods: string[];
  error?: string;
}

/**
 * `budget-guard discover`: what each Gnocchi source holds for the account,
 * so the config can name a metric, granularity and aggregation that exist.
 * One archive policy is read per metric name, from the first resource that
 * has it.
 */
export async function discoverCommand(
  context: CommandContext,
): Promise<number> {
  return context.withRuntime(async (runtime) => {
    const { config } = runtime;
    const projects = await runtime.selectel.resell.listProjects();
    const sources = await Promise.all(
      runtime.selectel.gnocchi.map((gnocchi) =>
        discoverSource(gnocchi, config.account),
      ),
    );
    const report = {
      account: config.account,
      configured: {
        metric: config.costs.metric,
        granularity: config.costs.granularity,
        aggregation: config.costs.aggregation,
      },
      projects: projects.map((project) => ({
        id: project.id,
        name: project.name,
        enabled: project.enabled ?? null,
      })),
      sources,
    };
    if (context.json) context.printJson(report);
    else context.print(discoverText(report));
    return sources.some((source) => source.error) ? 1 : 0;
  });
}

async function discoverSource(gnocchi: GnocchiClient, account: string) {
  try {
    const accountResource = await gnocchi.accountResource(account);
    const resources = await gnocchi.listProjects(accountResource?.id);
    const metrics = await describeMetrics(gnocchi, [
      ...(accountResource ? [accountResource] : []),
      ...resources,
    ]);
    return {
      endpoint: gnocchi.baseUrl,
      error: null,
      account: accountResource
        ? {
            id: accountResource.id,
            name: accountResource.name ?? null,
            metrics: Object.keys(accountResource.metrics),
          }
        : null,
      projects: resources.map((resource) => ({
        id: (resource.original_resource_id ?? resource.id).replaceAll('-', ''),
        resourceId: resource.id,
        name: resource.name ?? null,
        metrics: Object.keys(resource.metrics).sort(),
      })),
      metrics,
    };
  } catch (error) {
    return {
      endpoint: gnocchi.baseUrl,
      error: describeFailure(gnocchi, error),
      account: null,
      projects: [],
      metrics: {},
    };
  }
}

async function describeMetrics(
  gnocchi: GnocchiClient,
  resources: GnocchiResource[],
): Promise<Record<string, MetricInfo>> {
  const firstIds = new Map<string, string>();
  for (const resource of resources) {
    for (const [name, id] of Object.entries(resource.metrics)) {
      if (!firstIds.has(name)) firstIds.set(name, id);
    }
  }
  const limit = pLimit(4);
  const entries = await Promise.all(
    [...firstIds].map(([name, metricId]) =>
      limit(async (): Promise<[string, MetricInfo]> => {
        try {
          const metric = await gnocchi.metric(metricId);
          return [
            name,
            {
              metricId,
              policy: metric.archive_policy.name,
              granularities: metric.archive_policy.definition
                .map((item) => item.granularity)
                .sort((a, b) => a - b),
              aggregationMethods: [
                ...metric.archive_policy.aggregation_methods,
              ].sort(),
            },
          ];
        } catch (error) {
          return [
            name,
            {
              metricId,
              policy: null,
              granularities: [],
              aggregationMethods: [],
              error: describeFailure(gnocchi, error),
            },
          ];
        }
      }),
    ),
  );

  return Object.fromEntries(entries.sort(([a], [b]) => a.localeCompare(b)));
}

function discoverText(report: {
  account: string;
  configured: { metric: string; granularity: number; aggregation: string };
  projects: { id: string; name: string; enabled: boolean | null }[];
  sources: Awaited<ReturnType<typeof discoverSource>>[];
}): string {
  const lines = [
    `Account ${report.account}: ${report.projects.length} project(s) in the Cloud Management API`,
  ];
  lines.push(
    `Config reads ${report.configured.metric} at ${report.configured.granularity} s with ${report.configured.aggregation}`,
  );
  for (const source of report.sources) {
    lines.push('', `Source ${source.endpoint}`);
    if (source.error) {
      lines.push(`  ERROR: ${source.error}`);
      continue;
    }
    lines.push(
      `  account resource: ${source.account ? `${source.account.id} (${source.account.metrics.join(', ')})` : 'not found'}`,
    );
    lines.push(`  project resources: ${source.projects.length}`);
    lines.push(
      '',
      ...table([
        ['METRIC', 'POLICY', 'GRANULARITIES (s)', 'AGGREGATIONS'],
        ...Object.entries(source.metrics).map(([name, info]) => [
          name,
          info.policy ?? `ERROR: ${info.error ?? ''}`,
          info.granularities.join(', '),
          info.aggregationMethods.join(', '),
        ]),
      ]).map((line) => `  ${line}`),
    );
    lines.push(
      '',
      ...table([
        ['PROJECT', 'ID', 'METRICS'],
        ...source.projects.map((project) => [
          project.name ?? '-',
          project.id,
          project.metrics.join(', ') || '(none)',
        ]),
      ]).map((line) => `  ${line}`),
    );
  }

  return lines.join('\n');
}
