import { Logger } from '@aws-lambda-powertools/logger';
import pLimit from 'p-limit';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SelectelError } from '../../lib/selectel/errors.js';
import { recordingLog } from '../helpers/mock-http.js';
import { manyProjects, startSim } from '../helpers/sim.js';

const DAY_MS = 86_400_000;

describe('Selectel client against the simulator', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  async function setup(...args: Parameters<typeof startSim>) {
    const started = await startSim(...args);
    close = started.close;
    return started;
  }

  it('issues one token for 20 concurrent first calls', async () => {
    const { sim, client } = await setup({ projects: manyProjects(3) });

    const lists = await Promise.all(
      Array.from({ length: 20 }, () => client.resell.listProjects()),
    );

    expect(lists.every((list) => list.length === 3)).toBe(true);
    expect(sim.requestsTo('resell.tokens')).toHaveLength(1);
    expect(client.tokens.issued).toBe(1);
  });

  it('reissues once when the token expires in 200 reads', async () => {
    const { sim, client } = await setup({
      projects: manyProjects(200),
      tokenExpiry: { afterCalls: 100, firstTokens: 1 },
    });
    const [gnocchi] = client.gnocchi;
    const resources = await gnocchi!.listProjects();
    const limit = pLimit(10);
    const query = {
      aggregation: 'max',
      granularitySeconds: 3600,
      start: new Date(Date.now() - 3 * DAY_MS),
      stop: new Date(),
    };

    const reads = await Promise.allSettled(
      resources.map((resource) =>
        limit(() =>
          gnocchi!.measures(resource.id, 'vpc.project.full.cost', query),
        ),
      ),
    );

    expect(reads.filter((read) => read.status === 'rejected')).toEqual([]);
    expect(reads).toHaveLength(200);
    expect(sim.requestsTo('resell.tokens')).toHaveLength(2);
    expect(
      sim.requests.filter((record) => record.status === 401).length,
    ).toBeGreaterThan(0);
  });

  it('retries a 429 after its Retry-After of 2 seconds', async () => {
    const { sim, client, sleeps } = await setup({
      projects: manyProjects(1),
      faults: [
        {
          route: 'resell.projects',
          status: 429,
          retryAfterSeconds: 2,
          times: 1,
        },
      ],
    });

    const projects = await client.resell.listProjects();

    expect(projects).toHaveLength(1);
    expect(sleeps).toEqual([2000]);
    expect(
      sim.requestsTo('resell.projects').map((record) => record.status),
    ).toEqual([429, 200]);
  });

  it('lists 2,500 projects at page size 1,000 each once', async () => {
    const { sim, client } = await setup(
      { projects: manyProjects(2500) },
      { gnocchiPageLimit: 1000 },
    );

    const resources = await client.gnocchi[0]!.listProjects();
    const ids = new Set(
      resources.map((resource) => resource.original_resource_id),
    );

    expect(resources).toHaveLength(2500);
    expect(ids.size).toBe(2500);
    expect(
      sim
        .requestsTo('gnocchi.resources')
        .map((record) => record.query.marker?.length ?? 0),
    ).toEqual([0, 1, 1]);
  });

  it('pages a parent_id search the same way', async () => {
    const { client } = await setup(
      { projects: manyProjects(1500) },
      { gnocchiPageLimit: 1000 },
    );
    const gnocchi = client.gnocchi[0]!;
    const account = await gnocchi.accountResource(client.account);

    const resources = await gnocchi.listProjects(account!.id);

    expect(new Set(resources.map((resource) => resource.id)).size).toBe(1500);
  });

  it('names the failed resource and zone of a 207 PATCH', async () => {
    const { client } = await setup({
      projects: [
        {
          name: 'partial',
          quotas: {
            'ru-1': { compute_cores: [{ zone: 'ru-1a', value: 20, used: 4 }] },
          },
        },
      ],
      faults: [
        {
          route: 'quota.patch',
          failEntries: [{ resource: 'compute_cores', zone: 'ru-1b' }],
        },
      ],
    });
    const [project] = await client.resell.listProjects();

    const result = await client.quotas.patch(project!.id, [
      { region: 'ru-1', zone: 'ru-1a', resource: 'compute_cores', value: 4 },
      { region: 'ru-1', zone: 'ru-1b', resource: 'compute_cores', value: 0 },
    ]);

    expect(result.statuses['ru-1']).toBe(207);
    expect(result.applied).toEqual([
      {
        region: 'ru-1',
        zone: 'ru-1a',
        resource: 'compute_cores',
        value: 4,
        used: null,
      },
    ]);
    expect(result.failed).toEqual([
      expect.objectContaining({
        region: 'ru-1',
        zone: 'ru-1b',
        resource: 'compute_cores',
      }),
    ]);
  });

  it('resolves quota endpoints from the Keystone catalog', async () => {
    const started = await setup({ projects: manyProjects(1) });
    const { sim } = started;
    await started.client.close();
    const { createSelectelClient } = await import(
      '../../lib/selectel/client.js'
    );
    const client = createSelectelClient({
      account: sim.scenario.account,
      credentials: { kind: 'serviceUser', ...sim.scenario.serviceUser },
      endpoints: { ...sim.endpoints, quotaManager: undefined },
    });

    const regions = await client.quotas.regions();
    await client.close();

    expect(regions).toEqual(['ru-1', 'ru-3']);
    expect(sim.requestsTo('identity.tokens')).toHaveLength(1);
  });

  it('reads legacy resell quotas behind the same interface', async () => {
    const { sim, client } = await setup(
      {
        projects: [
          {
            name: 'legacy',
            quotas: {
              'ru-3': { compute_cores: [{ zone: 'ru-3a', value: 6, used: 2 }] },
            },
          },
        ],
      },
      { quotaApi: 'resell' },
    );
    const [project] = await client.resell.listProjects();

    const before = await client.quotas.read(project!.id);
    const patched = await client.quotas.patch(project!.id, [
      { region: 'ru-3', zone: 'ru-3a', resource: 'compute_cores', value: 2 },
    ]);

    expect(before.quotas).toContainEqual({
      region: 'ru-3',
      zone: 'ru-3a',
      resource: 'compute_cores',
      value: 6,
      used: 2,
    });
    expect(patched.failed).toEqual([]);
    expect(sim.quotaValues(project!.id)['ru-3/ru-3a/compute_cores']).toEqual({
      value: 2,
      used: 2,
    });
    expect(sim.requestsTo('resell.quotas.patch')[0]?.body).toEqual({
      quotas: { compute_cores: [{ region: 'ru-3', zone: 'ru-3a', value: 2 }] },
    });
  });

  it('keeps connections per origin within the bound', async () => {
    const { sim, client } = await setup(
      {
        projects: manyProjects(1),
        faults: [{ route: 'resell.projects', latencyMs: 20 }],
      },
      { http: { maxConnectionsPerOrigin: 4 } },
    );

    await Promise.all(
      Array.from({ length: 40 }, () => client.resell.listProjects()),
    );

    expect(sim.peakConcurrency).toBeLessThanOrEqual(4);
    expect(sim.requestsTo('resell.projects')).toHaveLength(40);
  });

  it('times out a slow request and retries it', async () => {
    const { sim, client } = await setup(
      {
        projects: manyProjects(1),
        faults: [{ route: 'resell.projects', latencyMs: 400, times: 1 }],
      },
      { http: { timeoutMs: 100 } },
    );

    const projects = await client.resell.listProjects();

    expect(projects).toHaveLength(1);
    expect(sim.requestsTo('resell.projects')).toHaveLength(2);
  });

  it('never puts the API key, password or a token in logs or errors', async () => {
    const log = recordingLog();
    const writes: string[] = [];
    const capture = (chunk: unknown) => {
      writes.push(String(chunk));
      return true;
    };
    const stdout = vi
      .spyOn(process.stdout, 'write')
      .mockImplementation(capture);
    const stderr = vi
      .spyOn(process.stderr, 'write')
      .mockImplementation(capture);
    const powertools = new Logger({
      serviceName: 'leak-test',
      logLevel: 'DEBUG',
    });
    const both = {
      debug: (message: string, extra?: Record<string, unknown>) => {
        log.debug(message, extra);
        powertools.debug(message, extra ?? {});
      },
      info: (message: string, extra?: Record<string, unknown>) => {
        log.info(message, extra);
        powertools.info(message, extra ?? {});
      },
      warn: (message: string, extra?: Record<string, unknown>) => {
        log.warn(message, extra);
        powertools.warn(message, extra ?? {});
      },
      error: (message: string, extra?: Record<string, unknown>) => {
        log.error(message, extra);
        powertools.error(message, extra ?? {});
      },
    };
    const { sim, client } = await setup(
      {
        projects: manyProjects(3),
        tokenExpiry: { afterCalls: 2, firstTokens: 1 },
        faults: [
          { route: 'gnocchi.resources', status: 503, times: 2 },
          { route: 'quota.patch', status: 400 },
        ],
      },
      { log: both },
    );
    const messages: string[] = [];
    const collect = async (work: Promise<unknown>) => {
      try {
        await work;
      } catch (error) {
        messages.push(
          String(error),
          JSON.stringify(error),
          (error as Error).stack ?? '',
        );
        both.error('operation failed', { error });
      }
    };
    const { createSelectelClient } = await import(
      '../../lib/selectel/client.js'
    );
    const wrongKey = createSelectelClient({
      account: sim.scenario.account,
      credentials: { kind: 'apiKey', apiKey: 'wrong-key-value-123' },
      endpoints: sim.endpoints,
      log: both,
    });
    const wrongPassword = createSelectelClient({
      account: sim.scenario.account,
      credentials: {
        kind: 'serviceUser',
        username: 'budget-guard',
        password: 'wrong-password-456',
      },
      endpoints: sim.endpoints,
      log: both,
    });

    try {
      await collect(client.resell.listProjects());
      await collect(client.gnocchi[0]!.listProjects());
      const [project] = await client.resell.listProjects();
      await collect(
        client.quotas
          .patch(project!.id, [
            {
              region: 'ru-1',
              zone: 'ru-1a',
              resource: 'compute_cores',
              value: 1,
            },
          ])
          .then((result) => {
            if (result.failed.length > 0)
              throw new Error(
                result.failed.map((entry) => entry.message).join('; '),
              );
          }),
      );
      await collect(wrongKey.resell.listProjects());
      await collect(wrongPassword.resell.listProjects());
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
      await wrongKey.close();
      await wrongPassword.close();
    }
    const text = [...log.lines, ...writes, ...messages].join('\n');
    const secrets = [
      sim.scenario.apiKey,
      sim.scenario.serviceUser.password,
      'wrong-key-value-123',
      'wrong-password-456',
      ...sim.issuedTokens,
    ];

    expect(messages.length).toBeGreaterThanOrEqual(3);
    expect(log.lines.length).toBeGreaterThan(0);
    expect(writes.length).toBeGreaterThan(0);
    expect(sim.issuedTokens.length).toBeGreaterThanOrEqual(2);
    for (const secret of secrets) expect(text).not.toContain(secret);
  });

  it('reports a rejected key as auth_failed', async () => {
    const { sim } = await setup({ projects: manyProjects(1) });
    const { createSelectelClient } = await import(
      '../../lib/selectel/client.js'
    );
    const client = createSelectelClient({
      account: sim.scenario.account,
      credentials: { kind: 'apiKey', apiKey: 'not-the-key' },
      endpoints: sim.endpoints,
    });

    const error = await client.resell
      .listProjects()
      .catch((caught: unknown) => caught);
    await client.close();

    expect(error).toBeInstanceOf(SelectelError);
    expect((error as SelectelError).code).toBe('auth_failed');
  });
});
