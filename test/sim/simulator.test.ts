import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { parseScenario } from '../../sim/scenario.js';
import { SelectelSimulator } from '../../sim/server.js';

const DAY = '2026-12-01';

async function call(
  sim: SelectelSimulator,
  path: string,
  init: { method?: string; body?: unknown; token?: string } = {},
) {
  const response = await request(`${sim.url}${path}`, {
    method: (init.method ?? 'GET') as 'GET',
    headers: {
      'content-type': 'application/json',
      ...(init.token ? { 'x-auth-token': init.token } : {}),
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await response.body.text();
  return {
    status: response.statusCode,
    headers: response.headers,
    body: text ? JSON.parse(text) : undefined,
  };
}

async function token(sim: SelectelSimulator): Promise<string> {
  const response = await request(`${sim.url}/vpc/resell/v2/tokens`, {
    method: 'POST',
    headers: {
      'x-token': sim.scenario.apiKey,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ token: { account_name: sim.scenario.account } }),
  });
  return ((await response.body.json()) as { token: { id: string } }).token.id;
}

describe('SelectelSimulator', () => {
  let sim: SelectelSimulator | undefined;
  afterEach(async () => {
    await sim?.close();
  });

  const hourly = {
    name: 'Проект с кириллицей',
    costs: {
      hourly: [
        [`${DAY}T20:00:00Z`, 10],
        [`${DAY}T23:00:00Z`, 1.5],
        ['2026-12-02T00:00:00Z', 100],
        ['2026-12-02T21:00:00Z', 7],
      ] as [string, number][],
    },
    quotas: {
      'ru-1': { compute_cores: [{ zone: 'ru-1a', value: 20, used: 12 }] },
    },
  };

  it('listens on 127.0.0.1 and keeps Cyrillic names', async () => {
    sim = await SelectelSimulator.start({ projects: [hourly] });
    const auth = await token(sim);

    const projects = await call(sim, '/vpc/resell/v2/projects', {
      token: auth,
    });

    expect(sim.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(projects.body.projects[0].name).toBe('Проект с кириллицей');
  });

  it('sums hours into UTC days, rounds start down and treats stop as exclusive', async () => {
    sim = await SelectelSimulator.start({ projects: [hourly] });
    const auth = await token(sim);
    const id = sim.state.projects.values().next().value!.resourceId;
    const base = `/gnocchi/ru-3/v1/resource/generic/${id}/metric/vpc.project.full.cost/measures`;

    const daily = await call(
      sim,
      `${base}?aggregation=max&granularity=86400&start=${encodeURIComponent(`${DAY}T21:00:00+00:00`)}&stop=${encodeURIComponent('2026-12-02T21:00:00+00:00')}`,
      { token: auth },
    );
    const hours = await call(
      sim,
      `${base}?aggregation=max&granularity=3600&start=${encodeURIComponent('2026-12-01T21:00:00+03:00')}&stop=${encodeURIComponent('2026-12-02T21:00:00+00:00')}`,
      { token: auth },
    );

    expect(daily.body).toEqual([
      ['2026-12-01T00:00:00+00:00', 86400, 11.5],
      ['2026-12-02T00:00:00+00:00', 86400, 107],
    ]);
    expect(hours.body).toEqual([
      ['2026-12-01T20:00:00+00:00', 3600, 10],
      ['2026-12-01T23:00:00+00:00', 3600, 1.5],
      ['2026-12-02T00:00:00+00:00', 3600, 100],
    ]);
  });

  it('rejects an instant whose plus sign was not encoded', async () => {
    sim = await SelectelSimulator.start({ projects: [hourly] });
    const auth = await token(sim);
    const id = sim.state.projects.values().next().value!.resourceId;

    const response = await call(
      sim,
      `/gnocchi/ru-3/v1/resource/generic/${id}/metric/vpc.project.full.cost/measures?aggregation=max&granularity=3600&start=2026-12-01T21:00:00+00:00`,
      { token: auth },
    );

    expect(response.status).toBe(400);
    expect(response.body.description).toBe('Invalid value for start');
  });

  it('answers 404 for a granularity or aggregation the policy lacks', async () => {
    sim = await SelectelSimulator.start({ projects: [hourly] });
    const auth = await token(sim);
    const id = sim.state.projects.values().next().value!.resourceId;
    const base = `/gnocchi/ru-3/v1/resource/generic/${id}/metric/vpc.project.full.cost/measures`;

    const granularity = await call(
      sim,
      `${base}?aggregation=max&granularity=60`,
      { token: auth },
    );
    const aggregation = await call(
      sim,
      `${base}?aggregation=rate:max&granularity=3600`,
      { token: auth },
    );

    expect(granularity.status).toBe(404);
    expect(aggregation.status).toBe(404);
  });

  it('rejects a PATCH below used when the rule is on', async () => {
    sim = await SelectelSimulator.start({
      projects: [hourly],
      quotaRules: { rejectBelowUsed: true },
    });
    const auth = await token(sim);
    const project = sim.state.projects.values().next().value!;

    const response = await call(
      sim,
      `/quota-manager/ru-1/v1/projects/${project.id}/quotas`,
      {
        method: 'PATCH',
        token: auth,
        body: { quotas: { compute_cores: [{ zone: 'ru-1a', value: 4 }] } },
      },
    );

    expect(response.status).toBe(400);
    expect(response.body.error.errors[0]).toMatchObject({
      resource: 'compute_cores',
      zone: 'ru-1a',
    });
    expect(sim.quotaValues(project.id)['ru-1/ru-1a/compute_cores']).toEqual({
      value: 20,
      used: 12,
    });
  });

  it('applies a fault only after and for as many requests as told', async () => {
    sim = await SelectelSimulator.start({
      projects: [hourly],
      faults: [{ route: 'resell.projects', status: 503, after: 1, times: 2 }],
    });
    const auth = await token(sim);

    const statuses = [];
    for (let index = 0; index < 4; index++) {
      statuses.push(
        (await call(sim, '/vpc/resell/v2/projects', { token: auth })).status,
      );
    }

    expect(statuses).toEqual([200, 503, 503, 200]);
  });

  it('answers 401 to a token past its call budget', async () => {
    sim = await SelectelSimulator.start({
      projects: [hourly],
      tokenExpiry: { afterCalls: 2 },
    });
    const auth = await token(sim);

    const statuses = [];
    for (let index = 0; index < 3; index++) {
      statuses.push(
        (await call(sim, '/vpc/resell/v2/projects', { token: auth })).status,
      );
    }

    expect(statuses).toEqual([200, 200, 401]);
  });

  it('records each request with its route, project and body', async () => {
    sim = await SelectelSimulator.start({ projects: [hourly] });
    const auth = await token(sim);
    const project = sim.state.projects.values().next().value!;
    const body = { quotas: { compute_cores: [{ zone: 'ru-1a', value: 12 }] } };

    await call(sim, `/quota-manager/ru-1/v1/projects/${project.id}/quotas`, {
      method: 'PATCH',
      token: auth,
      body,
    });

    expect(sim.requestsTo('quota.patch')).toEqual([
      expect.objectContaining({
        method: 'PATCH',
        project: project.id,
        region: 'ru-1',
        status: 200,
        body,
        authenticated: true,
      }),
    ]);
  });

  it('names the invalid field of a scenario', () => {
    expect(() =>
      parseScenario({
        projects: [
          { name: 'x', quotas: { 'ru-1': { compute_cores: [{ value: -1 }] } } },
        ],
      }),
    ).toThrow(/projects\.0\.quotas\.ru-1\.compute_cores\.0\.value/);
  });
});
