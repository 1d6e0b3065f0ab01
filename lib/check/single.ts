import type { Config } from '../config/schema.js';
import { dayConvention } from '../costs/calendar.js';
import { queryWindow, type SourceSeries } from '../costs/spend.js';
import type { SelectelClient } from '../selectel/client.js';
import { describeFailure } from './collect.js';
import { evaluateProject } from './evaluate.js';
import type { ProjectEvaluation } from './types.js';

/**
 * Reads and evaluates one project's spend now, as the check would, for the
 * re-check before an automatic cut. Each source is searched by the project's
 * id, so no other project is read.
 */
export async function evaluateOneProject(
  selectel: SelectelClient,
  config: Config,
  project: { id: string; name: string },
  runAtMs: number,
): Promise<ProjectEvaluation> {
  const convention = dayConvention(config.costs.granularity, config.timezone);
  const window = queryWindow(runAtMs, convention);
  const query = {
    aggregation: config.costs.aggregation,
    granularitySeconds: config.costs.granularity,
    start: new Date(window.startMs),
    stop: new Date(window.stopMs),
  };
  const sources = await Promise.all(
    selectel.gnocchi.map(async (gnocchi): Promise<SourceSeries> => {
      try {
        const [resource] = await gnocchi.searchResources('sel_project', {
          '=': { original_resource_id: project.id },
        });
        if (!resource) return { kind: 'absent' };
        if (resource.metrics[config.costs.metric] === undefined)
          return { kind: 'missing_metric' };
        return {
          kind: 'ok',
          buckets: await gnocchi.measures(
            resource.id,
            config.costs.metric,
            query,
          ),
        };
      } catch (error) {
        return { kind: 'error', message: describeFailure(gnocchi, error) };
      }
    }),
  );

  return evaluateProject({ config, convention, runAtMs }, project, sources);
}
