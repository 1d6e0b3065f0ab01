import { afterEach, describe, expect, it } from 'vitest';
import { CostReader } from '../../lib/selectel/cost-reader.js';
import { manyProjects, startSim } from '../helpers/sim.js';

const HOUR_MS = 3_600_000;
const query = () => ({
  aggregation: 'max',
  granularitySeconds: 3600,
  start: new Date(Date.now() - 3 * 24 * HOUR_MS),
  stop: new Date(Date.now() + HOUR_MS),
});

describe('CostReader', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
  });

  async function setup(...args: Parameters<typeof startSim>) {
    const started = await startSim(...args);
    close = started.close;
    const gnocchi = started.client.gnocchi[0]!;
    const resources = await gnocchi.listProjects();
    started.sim.clearRequests();
    return { ...started, gnocchi, resources };
  }

  it('reads 600 projects in batches of 250 through /aggregates', async () => {
    const { sim, gnocchi, resources } = await setup({
      projects: manyProjects(600),
    });
    const reader = new CostReader(gnocchi, { batchSize: 250 });

    const series = await reader.read(
      resources,
      'vpc.project.full.cost',
      query(),
    );

    expect(series.size).toBe(600);
    expect(
      [...series.values()].every(
        (read) => read.kind === 'ok' && read.buckets.length >= 48,
      ),
    ).toBe(true);
    expect(sim.requestsTo('gnocchi.aggregates')).toHaveLength(3);
    expect(sim.requestsTo('gnocchi.measures')).toHaveLength(0);
  });

  it('falls back to one read per project when /aggregates is refused', async () => {
    const { sim, gnocchi, resources } = await setup({
      projects: manyProjects(30),
      gnocchi: {
        sources: ['ru-3'],
        projectMetric: 'vpc.project.full.cost',
        accountMetric: 'vpc.account.full.cost',
        pageLimitMax: 1000,
        granularities: [3600, 86_400],
        aggregationMethods: ['max'],
        refuseAggregates: 404,
      },
    });
    const reader = new CostReader(gnocchi, { batchSize: 10 });

    const series = await reader.read(
      resources,
      'vpc.project.full.cost',
      query(),
    );

    expect(
      [...series.values()].filter((read) => read.kind === 'ok'),
    ).toHaveLength(30);
    expect(reader.usesPerResourceReads).toBe(true);
    expect(sim.requestsTo('gnocchi.measures')).toHaveLength(30);
    expect(sim.requestsTo('gnocchi.aggregates').length).toBeLessThanOrEqual(3);
  });

  it('marks a project without the metric and isolates a failing one', async () => {
    const projects = manyProjects(3);
    const { sim, gnocchi, resources } = await setup({
      projects: [...projects, { name: 'no-metric', missingMetric: true }],
      faults: [{ route: 'gnocchi.aggregates', status: 503 }],
    });
    const failing = resources.find((resource) => resource.name === 'p0001')!;
    sim.addFault({
      route: 'gnocchi.measures',
      project: failing.original_resource_id!,
      status: 500,
    });
    const reader = new CostReader(gnocchi);

    const series = await reader.read(
      resources,
      'vpc.project.full.cost',
      query(),
    );
    const byName = (name: string) =>
      series.get(resources.find((resource) => resource.name === name)!.id);

    expect(byName('no-metric')).toEqual({ kind: 'missing_metric' });
    expect(byName('p0001')?.kind).toBe('error');
    expect(byName('p0000')?.kind).toBe('ok');
    expect(byName('p0002')?.kind).toBe('ok');
  });
});
