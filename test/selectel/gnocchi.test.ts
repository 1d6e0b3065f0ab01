import { afterEach, describe, expect, it } from 'vitest';
import type { TokenSource } from '../../lib/selectel/http.js';
import { formatInstant, GnocchiClient } from '../../lib/selectel/gnocchi.js';
import { fixture } from '../helpers/fixtures.js';
import { mockHttp } from '../helpers/mock-http.js';

const ORIGIN = 'https://api.ru-3.selvpc.ru';
const BASE = `${ORIGIN}/metric/v1`;
const auth: TokenSource = { get: async () => 'token', invalidate() {} };

describe('GnocchiClient', () => {
  let mock: ReturnType<typeof mockHttp>;
  afterEach(() => mock.agent.close());

  function setup(pageLimit = 1000) {
    mock = mockHttp();
    return {
      pool: mock.agent.get(ORIGIN),
      gnocchi: new GnocchiClient(mock.http, auth, { baseUrl: BASE, pageLimit }),
    };
  }

  it('finds the sel_account resource by account number', async () => {
    const { pool, gnocchi } = setup();
    pool
      .intercept({
        path: (path) => path.startsWith('/metric/v1/resource/sel_account'),
      })
      .reply(200, fixture('selectel/sel_account.json'));

    const account = await gnocchi.accountResource('000000');

    expect(account?.id).toBe('01be8455-2e6a-452a-a149-95a73b12345a');
    expect(account?.metrics['vpc.account.full.cost']).toBe(
      '01d9b2e1-7be1-46a8-9ced-000cdcf72cbd',
    );
  });

  it('searches the account projects by parent_id', async () => {
    const { pool, gnocchi } = setup();
    let body: unknown;
    pool
      .intercept({
        path: (path) =>
          path.startsWith('/metric/v1/search/resource/sel_project'),
        method: 'POST',
      })
      .reply(200, (options) => {
        body = JSON.parse(String(options.body));
        return fixture('selectel/sel_project.json');
      });

    const projects = await gnocchi.listProjects(
      '01be8455-2e6a-452a-a149-95a73b12345a',
    );

    expect(body).toEqual({
      '=': { parent_id: '01be8455-2e6a-452a-a149-95a73b12345a' },
    });
    expect(projects).toHaveLength(1);
    expect(projects[0]?.original_resource_id).toBe(
      'a10c12341eb247d1b1c225a4902018e3',
    );
  });

  it('follows the Link header marker and stops at the last page', async () => {
    const { pool, gnocchi } = setup(2);
    const paths: string[] = [];
    const page = (ids: string[]) => ids.map((id) => ({ id, metrics: {} }));
    const record = (ids: string[]) => (options: { path: string }) => {
      paths.push(options.path);
      return page(ids);
    };
    pool
      .intercept({ path: '/metric/v1/resource/sel_project?limit=2' })
      .reply(200, record(['a', 'b']), {
        headers: {
          link: '<https://elsewhere.invalid/metric/v1/resource/sel_project?limit=2&marker=b>; rel="next"',
        },
      });
    pool
      .intercept({ path: '/metric/v1/resource/sel_project?limit=2&marker=b' })
      .reply(200, record(['c']));

    const projects = await gnocchi.listProjects();

    expect(projects.map((project) => project.id)).toEqual(['a', 'b', 'c']);
    expect(paths).toHaveLength(2);
  });

  it('sends aggregation, granularity and offset instants for measures', async () => {
    const { pool, gnocchi } = setup();
    let path = '';
    pool
      .intercept({ path: (value) => value.includes('/measures') })
      .reply(200, (options) => {
        path = options.path;
        return fixture('selectel/measures_account.json');
      });

    const buckets = await gnocchi.measures(
      '01be8455-2e6a-452a-a149-95a73b12345a',
      'vpc.account.full.cost',
      {
        aggregation: 'max',
        granularitySeconds: 86_400,
        start: new Date('2021-01-31T21:00:00Z'),
        stop: new Date('2021-04-16T21:00:00Z'),
      },
    );
    const query = new URL(path, ORIGIN).searchParams;

    expect(path.split('?')[0]).toBe(
      '/metric/v1/resource/generic/01be8455-2e6a-452a-a149-95a73b12345a/metric/vpc.account.full.cost/measures',
    );
    expect(query.get('aggregation')).toBe('max');
    expect(query.get('granularity')).toBe('86400');
    expect(query.get('start')).toBe('2021-01-31T21:00:00+00:00');
    expect(query.get('stop')).toBe('2021-04-16T21:00:00+00:00');
    expect(buckets[0]).toEqual({
      startMs: Date.parse('2021-01-31T00:00:00Z'),
      granularitySeconds: 86_400,
      value: 86.33333333333333,
    });
    expect(buckets).toHaveLength(3);
  });

  it('reads an empty series as no buckets', async () => {
    const { pool, gnocchi } = setup();
    pool
      .intercept({ path: (value) => value.includes('/measures') })
      .reply(200, []);

    const buckets = await gnocchi.measures('r', 'm', {
      aggregation: 'max',
      granularitySeconds: 3600,
      start: new Date(0),
      stop: new Date(3_600_000),
    });

    expect(buckets).toEqual([]);
  });

  it('reads the archive policy with timespans in seconds', async () => {
    const { pool, gnocchi } = setup();
    pool
      .intercept({
        path: '/metric/v1/metric/7fe07d04-1f2b-4f3a-a376-fcc00eb6be95',
      })
      .reply(200, fixture('selectel/metric.json'));

    const metric = await gnocchi.metric('7fe07d04-1f2b-4f3a-a376-fcc00eb6be95');

    expect(
      metric.archive_policy.definition.map((item) => item.granularity),
    ).toEqual([3600, 86_400]);
    expect(metric.archive_policy.definition[1]?.timespan).toBe(1825 * 86_400);
    expect(metric.archive_policy.aggregation_methods).toContain('max');
  });

  it('reads many projects through POST /aggregates', async () => {
    const { pool, gnocchi } = setup();
    let body: unknown;
    pool
      .intercept({
        path: (value) => value.startsWith('/metric/v1/aggregates?'),
        method: 'POST',
      })
      .reply(200, (options) => {
        body = JSON.parse(String(options.body));
        return {
          measures: {
            'a10c1234-1eb2-47d1-b1c2-25a4902018e3': {
              'vpc.project.full.cost': {
                max: fixture('selectel/measures_project.json'),
              },
            },
          },
        };
      });

    const series = await gnocchi.aggregates(
      'sel_project',
      { in: { id: ['a10c1234-1eb2-47d1-b1c2-25a4902018e3'] } },
      'vpc.project.full.cost',
      {
        aggregation: 'max',
        granularitySeconds: 86_400,
        start: new Date(0),
        stop: new Date(86_400_000),
      },
    );

    expect(body).toEqual({
      resource_type: 'sel_project',
      search: { in: { id: ['a10c1234-1eb2-47d1-b1c2-25a4902018e3'] } },
      operations: '(metric vpc.project.full.cost max)',
    });
    expect(series.get('a10c1234-1eb2-47d1-b1c2-25a4902018e3')).toEqual([
      {
        startMs: Date.parse('2021-03-12T00:00:00Z'),
        granularitySeconds: 86_400,
        value: 10,
      },
    ]);
  });
});

describe('formatInstant', () => {
  it('writes an explicit +00:00 offset without milliseconds', () => {
    expect(formatInstant(new Date('2021-01-31T21:00:00.000Z'))).toBe(
      '2021-01-31T21:00:00+00:00',
    );
  });
});
