import { afterEach, describe, expect, it } from 'vitest';
import type { TokenSource } from '../../lib/selectel/http.js';
import {
  LegacyResellQuotaApi,
  QuotaManagerApi,
} from '../../lib/selectel/quotas.js';
import { fixture } from '../helpers/fixtures.js';
import { mockHttp } from '../helpers/mock-http.js';

const auth: TokenSource = { get: async () => 'token', invalidate() {} };
const PROJECT = 'a10c12341eb247d1b1c225a4902018e3';
const RU1 = 'https://ru-1.cloud.api.selcloud.ru';
const RU3 = 'https://ru-3.cloud.api.selcloud.ru';
const endpoints = async () => ({
  'ru-1': `${RU1}/quota-manager/v1`,
  'ru-3': `${RU3}/quota-manager/v1`,
});

describe('QuotaManagerApi', () => {
  let mock: ReturnType<typeof mockHttp>;
  afterEach(() => mock.agent.close());

  it('reads quotas of every region with used and null zones', async () => {
    mock = mockHttp();
    mock.agent
      .get(RU1)
      .intercept({ path: `/quota-manager/v1/projects/${PROJECT}/quotas` })
      .reply(200, fixture('selectel/quota_manager_quotas.json'));
    mock.agent
      .get(RU3)
      .intercept({ path: `/quota-manager/v1/projects/${PROJECT}/quotas` })
      .reply(200, { quotas: {} });
    const api = new QuotaManagerApi(mock.http, auth, endpoints);

    const result = await api.read(PROJECT);

    expect(result.failed).toEqual([]);
    expect(result.quotas).toContainEqual({
      region: 'ru-1',
      zone: 'ru-1a',
      resource: 'compute_cores',
      value: 20,
      used: 12,
    });
    expect(result.quotas).toContainEqual({
      region: 'ru-1',
      zone: null,
      resource: 'image_gigabytes',
      value: 100,
      used: 40,
    });
    expect(result.quotas).toHaveLength(4);
  });

  it('returns a 207 PATCH as partial with the failed resource and zone', async () => {
    mock = mockHttp();
    let body: unknown;
    mock.agent
      .get(RU1)
      .intercept({
        path: `/quota-manager/v1/projects/${PROJECT}/quotas`,
        method: 'PATCH',
      })
      .reply(207, (options) => {
        body = JSON.parse(String(options.body));
        return fixture('selectel/quota_manager_patch_207.json');
      });
    const api = new QuotaManagerApi(mock.http, auth, endpoints);

    const result = await api.patch(PROJECT, [
      { region: 'ru-1', zone: 'ru-1a', resource: 'compute_cores', value: 12 },
      { region: 'ru-1', zone: 'ru-1a', resource: 'compute_ram', value: 24576 },
      { region: 'ru-1', zone: null, resource: 'image_gigabytes', value: 40 },
    ]);

    expect(body).toEqual({
      quotas: {
        compute_cores: [{ zone: 'ru-1a', value: 12 }],
        compute_ram: [{ zone: 'ru-1a', value: 24576 }],
        image_gigabytes: [{ value: 40 }],
      },
    });
    expect(result.statuses).toEqual({ 'ru-1': 207 });
    expect(result.applied).toEqual([
      {
        region: 'ru-1',
        zone: 'ru-1a',
        resource: 'compute_cores',
        value: 12,
        used: null,
      },
    ]);
    expect(result.failed).toEqual([
      {
        region: 'ru-1',
        zone: 'ru-1a',
        resource: 'compute_ram',
        message: 'backend failed to apply the quota',
        code: 500,
      },
    ]);
  });

  it('lists every entry of a rejected region and keeps the other region', async () => {
    mock = mockHttp();
    mock.agent
      .get(RU1)
      .intercept({
        path: `/quota-manager/v1/projects/${PROJECT}/quotas`,
        method: 'PATCH',
      })
      .reply(400, fixture('selectel/quota_manager_patch_400.json'));
    mock.agent
      .get(RU3)
      .intercept({
        path: `/quota-manager/v1/projects/${PROJECT}/quotas`,
        method: 'PATCH',
      })
      .reply(200, { quotas: { compute_cores: [{ zone: 'ru-3a', value: 0 }] } });
    const api = new QuotaManagerApi(mock.http, auth, endpoints);

    const result = await api.patch(PROJECT, [
      { region: 'ru-1', zone: 'ru-1a', resource: 'compute_ram', value: 1000 },
      { region: 'ru-1', zone: 'ru-1a', resource: 'compute_cores', value: 1 },
      { region: 'ru-3', zone: 'ru-3a', resource: 'compute_cores', value: 0 },
    ]);

    expect(result.statuses).toEqual({ 'ru-1': 400, 'ru-3': 200 });
    expect(result.applied).toHaveLength(1);
    expect(result.failed).toHaveLength(2);
    expect(result.failed[0]).toMatchObject({
      resource: 'compute_ram',
      message: 'compute_ram must be a multiple of 256',
      code: 400,
    });
    expect(result.failed[1]).toMatchObject({
      resource: 'compute_cores',
      code: 400,
    });
  });
});

describe('LegacyResellQuotaApi', () => {
  let mock: ReturnType<typeof mockHttp>;
  afterEach(() => mock.agent.close());

  it('reads one call for every region and keeps the configured ones', async () => {
    mock = mockHttp();
    mock.agent
      .get('https://api.selectel.ru')
      .intercept({ path: `/vpc/resell/v2/quotas/projects/${PROJECT}` })
      .reply(200, fixture('selectel/legacy_quotas.json'));
    const api = new LegacyResellQuotaApi(
      mock.http,
      auth,
      'https://api.selectel.ru/vpc/resell/v2',
      ['ru-1'],
    );

    const result = await api.read(PROJECT);

    expect(result.quotas).toEqual([
      {
        region: 'ru-1',
        zone: 'ru-1a',
        resource: 'compute_cores',
        value: 10,
        used: 2,
      },
      {
        region: 'ru-1',
        zone: null,
        resource: 'image_gigabytes',
        value: 50,
        used: 5,
      },
    ]);
  });

  it('reports cant_set_quota as failed entries', async () => {
    mock = mockHttp();
    mock.agent
      .get('https://api.selectel.ru')
      .intercept({
        path: `/vpc/resell/v2/quotas/projects/${PROJECT}`,
        method: 'PATCH',
      })
      .reply(400, { error: 'cant_set_quota', value: 1, used: 2 });
    const api = new LegacyResellQuotaApi(
      mock.http,
      auth,
      'https://api.selectel.ru/vpc/resell/v2',
    );

    const result = await api.patch(PROJECT, [
      { region: 'ru-1', zone: 'ru-1a', resource: 'compute_cores', value: 1 },
    ]);

    expect(result.applied).toEqual([]);
    expect(result.failed).toEqual([
      {
        region: 'ru-1',
        zone: 'ru-1a',
        resource: 'compute_cores',
        message: expect.stringContaining('cant_set_quota'),
        code: 400,
      },
    ]);
  });
});
