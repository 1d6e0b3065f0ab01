import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { budgetFor, unmatchedOverrides } from '../../lib/config/budgets.js';
import { ConfigError } from '../../lib/config/errors.js';
import {
  loadConfig,
  parseConfig,
  validateConfig,
} from '../../lib/config/load.js';
import { type Config, configJsonSchema } from '../../lib/config/schema.js';
import { renderConfigSchema, SCHEMA_FILE } from '../../scripts/write-schema.js';
import { DEFAULT_COSTS } from '../helpers/config-defaults.js';
import { useTempFolder } from '../helpers/config-temp-folder.js';

/** A realistic config with inline comments and most sections set. */
const EXAMPLE = `account: "123456"
currency: RUB            # budgets below are in rubles
timezone: Europe/Moscow
endpoints:               # optional; defaults are Selectel's public URLs
  resell: https://api.selectel.ru/vpc/resell/v2
  identity: https://cloud.api.selcloud.ru/identity/v3
  gnocchi: [https://api.ru-3.selvpc.ru/metric/v1]
  quotaManager: { ru-1: https://ru-1.cloud.api.selcloud.ru/quota-manager/v1 }
costs: { metric: vpc.project.full.cost, granularity: 86400, aggregation: max, staleAfterHours: 36 }
quotas: { api: quota-manager }   # or resell (the legacy /quotas/projects paths); every region in endpoints.quotaManager is read
budgets:
  account:  { monthly: 250000 }   # optional, alerts only
  default:  { daily: 1000, monthly: 20000, warnAt: 0.8, cutAt: 1.2, action: freeze, approval: auto }
  projects:
    prod:     { monthly: 150000, action: none }
    sandbox:  { daily: 200, action: zero }
`;

const MINIMAL = 'account: "123456"\nbudgets: {}\n';

const ALL_KEYS =
  'account, currency, timezone, endpoints, costs, quotas, budgets, notifications';
const BUDGET_KEYS = 'daily, monthly, warnAt, cutAt, action, approval';

/** Parses YAML that must be invalid and returns the error. */
function rejectedYaml(text: string): ConfigError {
  try {
    parseConfig(text, 'test.yml');
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError, but the config was accepted');
}

/** Finds the issue message at one dotted path, or undefined. */
function messageAt(error: ConfigError, path: string): string | undefined {
  return error.issues.find((issue) => issue.path === path)?.message;
}

/** A minimal config with one default budget field set to a YAML value. */
const withDefault = (field: string, value: string) =>
  `account: "123456"\nbudgets:\n  default: { ${field}: ${value} }\n`;

describe('parseConfig', () => {
  it('parses the example with defaults', () => {
    const config = parseConfig(EXAMPLE);

    expect(config).toEqual({
      account: '123456',
      currency: 'RUB',
      timezone: 'Europe/Moscow',
      endpoints: {
        resell: 'https://api.selectel.ru/vpc/resell/v2',
        identity: 'https://cloud.api.selcloud.ru/identity/v3',
        gnocchi: ['https://api.ru-3.selvpc.ru/metric/v1'],
        quotaManager: {
          'ru-1': 'https://ru-1.cloud.api.selcloud.ru/quota-manager/v1',
        },
      },
      // The example sets four costs keys, each to its default value.
      costs: DEFAULT_COSTS,
      quotas: { api: 'quota-manager' },
      budgets: {
        account: { monthly: 250_000 },
        default: {
          daily: 1000,
          monthly: 20_000,
          warnAt: 0.8,
          cutAt: 1.2,
          action: 'freeze',
          approval: 'auto',
        },
        projects: {
          prod: { monthly: 150_000, action: 'none' },
          sandbox: { daily: 200, action: 'zero' },
        },
      },
      notifications: { subjectPrefix: '[budget-guard]' },
    } satisfies Config);
  });

  it('fills every default in a minimal config', () => {
    const config = parseConfig(MINIMAL);

    expect(config).toEqual({
      account: '123456',
      currency: 'RUB',
      timezone: 'Europe/Moscow',
      endpoints: {},
      costs: DEFAULT_COSTS,
      quotas: { api: 'quota-manager' },
      budgets: { default: {}, projects: {} },
      notifications: { subjectPrefix: '[budget-guard]' },
    } satisfies Config);
  });

  it('fills defaults inside a partial section', () => {
    const config = parseConfig(`${MINIMAL}costs: { granularity: 3600 }\n`);

    expect(config.costs.granularity).toBe(3600);
    expect(config.costs.metric).toBe('vpc.project.full.cost');
    expect(config.costs.staleAfterHours).toBe(36);
  });

  it('strips trailing slashes from URLs', () => {
    const text = `${MINIMAL}endpoints: { resell: "https://sim.local:8080/vpc//" }\n`;

    const config = parseConfig(text);

    expect(config.endpoints.resell).toBe('https://sim.local:8080/vpc');
  });

  it.each([
    ['(top level)', '', `${MINIMAL}alerts: {}\n`, 'alerts', ALL_KEYS],
    [
      'costs',
      'costs',
      `${MINIMAL}costs: { granularty: 3600 }\n`,
      'granularty',
      'metric, accountMetric, granularity, aggregation, staleAfterHours, concurrency, pageLimit, batchSize',
    ],
    [
      'endpoints',
      'endpoints',
      `${MINIMAL}endpoints: { quotamanager: {} }\n`,
      'quotamanager',
      'resell, identity, gnocchi, quotaManager',
    ],
    ['quotas', 'quotas', `${MINIMAL}quotas: { mode: zero }\n`, 'mode', 'api'],
    [
      'notifications',
      'notifications',
      `${MINIMAL}notifications: { topic: x }\n`,
      'topic',
      'subjectPrefix',
    ],
    [
      'budgets',
      'budgets',
      'account: "123456"\nbudgets: { defaults: {} }\n',
      'defaults',
      'account, default, projects',
    ],
    [
      'budgets.default',
      'budgets.default',
      withDefault('dialy', '100'),
      'dialy',
      BUDGET_KEYS,
    ],
    [
      'budgets.account',
      'budgets.account',
      'account: "123456"\nbudgets: { account: { cutAt: 1.2 } }\n',
      'cutAt',
      'daily, monthly, warnAt',
    ],
    [
      'budgets.projects.prod',
      'budgets.projects.prod',
      'account: "123456"\nbudgets: { projects: { prod: { limit: 5 } } }\n',
      'limit',
      BUDGET_KEYS,
    ],
  ])('rejects an unknown key in %s', (_where, path, text, key, allowed) => {
    const error = rejectedYaml(text);

    expect(messageAt(error, path)).toBe(
      `unknown key "${key}"; allowed keys: ${allowed}`,
    );
  });

  it('names the path in the error message', () => {
    const error = rejectedYaml(withDefault('dialy', '100'));

    expect(error.message).toBe(
      'invalid config test.yml:\n' +
        `  budgets.default: unknown key "dialy"; allowed keys: ${BUDGET_KEYS}`,
    );
  });

  it.each([
    [
      'an unknown action',
      withDefault('action', 'cut'),
      'budgets.default.action',
      'expected one of freeze (quotas set to what is used), zero, none (never cut) (got "cut")',
    ],
    [
      'an unknown approval',
      withDefault('approval', 'later'),
      'budgets.default.approval',
      'expected auto (cut at once) or manual (a person approves the cut) (got "later")',
    ],
    [
      'an unknown quota API',
      `${MINIMAL}quotas: { api: nova }\n`,
      'quotas.api',
      'expected quota-manager or resell (the legacy /quotas/projects paths) (got "nova")',
    ],
    [
      'another currency',
      `${MINIMAL}currency: EUR\n`,
      'currency',
      'expected RUB: budgets are in rubles (got "EUR")',
    ],
    [
      'an unsupported granularity',
      `${MINIMAL}costs: { granularity: 7200 }\n`,
      'costs.granularity',
      'expected one of 300, 600, 900, 1800, 3600, 86400 seconds (got 7200)',
    ],
    [
      'a numeric account',
      'account: 123456\nbudgets: {}\n',
      'account',
      'expected the account number as a string, such as "123456" (got 123456)',
    ],
    [
      'an account with letters',
      'account: "acc-1"\nbudgets: {}\n',
      'account',
      'expected the account number: digits only (got "acc-1")',
    ],
    [
      'a quoted amount',
      withDefault('daily', '"1000"'),
      'budgets.default.daily',
      'expected an amount in rubles, such as 1500 or 99.90 (got "1000")',
    ],
    [
      'a negative amount',
      withDefault('monthly', '-1'),
      'budgets.default.monthly',
      'expected an amount of 0 or more rubles (got -1)',
    ],
    [
      'a fraction of zero',
      withDefault('warnAt', '0'),
      'budgets.default.warnAt',
      'expected a fraction greater than 0 (got 0)',
    ],
    [
      'a missing account',
      'budgets: {}\n',
      'account',
      'missing; this field is required',
    ],
    [
      'missing budgets',
      'account: "123456"\n',
      'budgets',
      'missing; this field is required',
    ],
  ])('rejects %s', (_case, text, path, message) => {
    const error = rejectedYaml(text);

    expect(messageAt(error, path)).toBe(message);
  });

  it('rejects gnocchi given as one string', () => {
    const text = `${MINIMAL}endpoints: { gnocchi: https://a.example/metric/v1 }\n`;

    const error = rejectedYaml(text);

    expect(messageAt(error, 'endpoints.gnocchi')).toMatch(/expected array/);
  });

  it.each([
    ['daily', '10.001'],
    ['daily', '0.001'],
    ['monthly', '99.999'],
    ['monthly', '1500.125'],
  ])('rejects %s of %s rubles', (field, value) => {
    const error = rejectedYaml(withDefault(field, value));

    expect(messageAt(error, `budgets.default.${field}`)).toBe(
      `expected whole kopecks: at most two decimals (got ${value})`,
    );
  });

  it.each([
    ['0', 0],
    ['0.01', 1],
    ['99.99', 9999],
    ['1500.10', 150_010],
    // Large amounts with kopecks are still exactly two decimals.
    ['5000000000.02', 500_000_000_002],
    ['99999999999.99', 9_999_999_999_999],
  ])('accepts %s rubles', (value, kopecks) => {
    const config = parseConfig(withDefault('monthly', value));

    const { budget } = budgetFor(config, { id: 'x', name: 'x' });

    expect(budget.monthlyKopecks).toBe(kopecks);
  });

  it.each([
    ['warnAt', '0.80001'],
    ['cutAt', '1.23456'],
    ['warnAt', '0.123456'],
  ])('rejects %s of %s', (field, value) => {
    const error = rejectedYaml(withDefault(field, value));

    expect(messageAt(error, `budgets.default.${field}`)).toBe(
      `expected at most four decimals (got ${value})`,
    );
  });

  it.each([
    ['0.8125', 8125],
    ['1.2345', 12_345],
    ['100', 1_000_000],
  ])('accepts a cut fraction of %s', (value, basisPoints) => {
    const config = parseConfig(withDefault('cutAt', value));

    const { budget } = budgetFor(config, { id: 'x', name: 'x' });

    expect(budget.cutBasisPoints).toBe(basisPoints);
  });

  it.each(['Europe/Moskva', 'MSK', 'Mars/Olympus_Mons', ''])(
    'rejects the timezone "%s"',
    (zone) => {
      const error = rejectedYaml(`${MINIMAL}timezone: "${zone}"\n`);

      expect(messageAt(error, 'timezone')).toBe(
        `unknown IANA timezone; use a name such as Europe/Moscow or UTC (got "${zone}")`,
      );
    },
  );

  it.each([
    ['resell', 'api.selectel.ru/vpc/resell/v2'],
    ['resell', 'ftp://api.selectel.ru/vpc'],
    ['identity', 'not a url'],
  ])('rejects endpoints.%s of %s', (field, url) => {
    const error = rejectedYaml(`${MINIMAL}endpoints: { ${field}: "${url}" }\n`);

    expect(messageAt(error, `endpoints.${field}`)).toBe(
      `expected an http or https URL (got "${url}")`,
    );
  });

  it('rejects a bad quota region name', () => {
    const text = `${MINIMAL}endpoints: { quotaManager: { RU1: "https://q.example" } }\n`;

    const error = rejectedYaml(text);

    expect(error.issues.map((issue) => issue.path)).toContain(
      'endpoints.quotaManager.RU1',
    );
  });

  it.each([
    ['a top-level key', 'account: "1"\nbudgets: {}\naccount: "2"\n'],
    [
      'a project',
      'account: "1"\nbudgets:\n  projects:\n    prod: { daily: 1 }\n    prod: { daily: 2 }\n',
    ],
  ])('rejects a duplicate of %s', (_case, text) => {
    const error = rejectedYaml(text);

    expect(error.message).toMatch(/^invalid YAML in config test\.yml:\n/);
    expect(error.issues[0]?.message).toMatch(/Map keys must be unique/);
  });

  it.each([
    ['Asia/Kolkata', 3600, '+05:30'],
    ['Asia/Kathmandu', 1800, '+05:45'],
    ['America/St_Johns', 3600, '-03:30'],
  ])('rejects %s with %i s buckets', (zone, granularity, offset) => {
    const text = `${MINIMAL}timezone: ${zone}\ncosts: { granularity: ${granularity} }\n`;

    const error = rejectedYaml(text);

    expect(messageAt(error, 'costs.granularity')).toBe(
      `${granularity} s buckets do not fit the UTC offset ${offset} of ${zone}; ` +
        'use a granularity that divides the offset, or 86400 for UTC days',
    );
  });

  it.each([
    ['Asia/Kolkata', 1800],
    ['Asia/Kolkata', 86_400],
    ['Asia/Kathmandu', 900],
    ['Europe/Moscow', 3600],
    ['Europe/Berlin', 3600],
  ])('accepts %s with %i s buckets', (zone, granularity) => {
    const text = `${MINIMAL}timezone: ${zone}\ncosts: { granularity: ${granularity} }\n`;

    const config = parseConfig(text);

    expect(config.timezone).toBe(zone);
    expect(config.costs.granularity).toBe(granularity);
  });
});

describe('validateConfig', () => {
  it('accepts parsed data', () => {
    const config = validateConfig({ account: '42', budgets: {} });

    expect(config.account).toBe('42');
    expect(config.timezone).toBe('Europe/Moscow');
  });

  it('reports missing fields for null', () => {
    const error = (() => {
      try {
        validateConfig(null, 'empty.yml');
      } catch (caught) {
        return caught;
      }
    })();

    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).file).toBe('empty.yml');
    expect((error as ConfigError).issues).toEqual([
      { path: 'account', message: 'missing; this field is required' },
      { path: 'budgets', message: 'missing; this field is required' },
    ]);
  });
});

describe('loadConfig', () => {
  const folder = useTempFolder('budget-guard-config-');

  it('reads and validates a file', async () => {
    const file = join(folder(), 'budgets.yml');
    await writeFile(file, EXAMPLE);

    const config = await loadConfig(file);

    expect(config).toEqual(parseConfig(EXAMPLE));
  });

  it('suggests --config for a missing file', async () => {
    const file = join(folder(), 'missing.yml');

    const error = await loadConfig(file).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).file).toBe(file);
    expect((error as ConfigError).message).toBe(
      `cannot load config ${file}:\n` +
        '  (top level): file not found; pass --config FILE or set BUDGET_GUARD_CONFIG',
    );
  });

  it('names the file in validation errors', async () => {
    const file = join(folder(), 'bad.yml');
    await writeFile(file, 'account: "1"\n');

    const error = await loadConfig(file).catch((caught: unknown) => caught);

    expect((error as ConfigError).message).toBe(
      `invalid config ${file}:\n  budgets: missing; this field is required`,
    );
  });
});

describe('budgetFor', () => {
  const ID_SHOP = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
  const ID_OTHER = '0f1e2d3c4b5a69788796a5b4c3d2e1f0';
  const config = parseConfig(`account: "123456"
budgets:
  default: { daily: 1000, monthly: 20000, warnAt: 0.8, cutAt: 1.2, action: freeze, approval: auto }
  projects:
    ${ID_SHOP}: { monthly: 50000, action: zero }
    shop: { monthly: 30000, approval: manual }
    sandbox: { daily: null, cutAt: null }
    prod: { monthly: 150000, warnAt: 0.9, action: none }
`);

  it('merges the id override over the name override', () => {
    const { budget, source } = budgetFor(config, { id: ID_SHOP, name: 'shop' });

    expect(source).toBe('id');
    // Monthly and action from the id override, approval from the name one.
    expect(budget).toEqual({
      dailyKopecks: 100_000,
      monthlyKopecks: 5_000_000,
      warnBasisPoints: 8000,
      cutBasisPoints: 12_000,
      action: 'zero',
      approval: 'manual',
    });
  });

  it('falls back to the override by name', () => {
    const { budget, source } = budgetFor(config, {
      id: ID_OTHER,
      name: 'shop',
    });

    expect(source).toBe('name');
    expect(budget).toEqual({
      dailyKopecks: 100_000,
      monthlyKopecks: 3_000_000,
      warnBasisPoints: 8000,
      cutBasisPoints: 12_000,
      action: 'freeze',
      approval: 'manual',
    });
  });

  it('removes default limits set to null', () => {
    const { budget } = budgetFor(config, { id: ID_OTHER, name: 'sandbox' });

    expect(budget.dailyKopecks).toBeNull();
    expect(budget.cutBasisPoints).toBeNull();
    expect(budget.monthlyKopecks).toBe(2_000_000);
  });

  it('keeps a protected project at action none', () => {
    const { budget } = budgetFor(config, { id: ID_OTHER, name: 'prod' });

    expect(budget.action).toBe('none');
    expect(budget.warnBasisPoints).toBe(9000);
    expect(budget.monthlyKopecks).toBe(15_000_000);
  });

  it.each(['unlisted', 'constructor', 'toString', '__proto__'])(
    'gives project "%s" the defaults',
    (name) => {
      const { budget, source } = budgetFor(config, { id: ID_OTHER, name });

      expect(source).toBe('default');
      expect(budget).toEqual({
        dailyKopecks: 100_000,
        monthlyKopecks: 2_000_000,
        warnBasisPoints: 8000,
        cutBasisPoints: 12_000,
        action: 'freeze',
        approval: 'auto',
      });
    },
  );

  it('uses built-in defaults without budgets.default', () => {
    const { budget, source } = budgetFor(parseConfig(MINIMAL), {
      id: ID_OTHER,
      name: 'any',
    });

    expect(source).toBe('default');
    expect(budget).toEqual({
      dailyKopecks: null,
      monthlyKopecks: null,
      warnBasisPoints: 8000,
      cutBasisPoints: null,
      action: 'freeze',
      approval: 'auto',
    });
  });
});

describe('unmatchedOverrides', () => {
  it('lists keys matching no id or name', () => {
    const config = parseConfig(`account: "1"
budgets:
  projects:
    a1b2c3d4e5f60718293a4b5c6d7e8f90: { daily: 1 }
    shop: { daily: 2 }
    old-project: { daily: 3 }
    ffffffffffffffffffffffffffffffff: { daily: 4 }
`);
    const projects = [
      { id: 'a1b2c3d4e5f60718293a4b5c6d7e8f90', name: 'billing' },
      { id: '0f1e2d3c4b5a69788796a5b4c3d2e1f0', name: 'shop' },
    ];

    const unmatched = unmatchedOverrides(config, projects);

    expect(unmatched).toEqual([
      'old-project',
      'ffffffffffffffffffffffffffffffff',
    ]);
  });

  it('lists nothing without overrides', () => {
    expect(unmatchedOverrides(parseConfig(MINIMAL), [])).toEqual([]);
  });
});

describe('configJsonSchema', () => {
  it('matches the shipped schema file', async () => {
    const path = new URL(`../../${SCHEMA_FILE}`, import.meta.url);

    const shipped = await readFile(path, 'utf8');

    // Run `npm run build && npm run schema` when this fails.
    expect(shipped).toBe(renderConfigSchema());
    expect(JSON.parse(shipped)).toEqual(configJsonSchema());
  });

  it('rejects unknown top-level keys', () => {
    const schema = configJsonSchema();

    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties as object)).toEqual(
      ALL_KEYS.split(', '),
    );
    expect(schema.required).toEqual(['account', 'budgets']);
  });

  it('closes every nested object', () => {
    const open: string[] = [];
    const visit = (node: unknown, path: string): void => {
      if (typeof node !== 'object' || node === null) return;
      const record = node as Record<string, unknown>;
      if ('properties' in record && record.additionalProperties !== false) {
        open.push(path || '(top level)');
      }
      for (const [key, value] of Object.entries(record)) {
        if (key !== 'default') visit(value, path ? `${path}.${key}` : key);
      }
    };

    visit(configJsonSchema(), '');

    expect(open).toEqual([]);
  });
});

describe('config rules across fields', () => {
  const ID = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';

  it.each([
    ['warnAt: 1', 'budgets.default.warnAt', /expected a share below 1/],
    ['warnAt: 80', 'budgets.default.warnAt', /expected a share below 1/],
    [
      'cutAt: 0.5',
      'budgets.default.cutAt',
      /cutAt 0.5 is not above warnAt 0.8/,
    ],
    [
      'warnAt: 0.9, cutAt: 0.9',
      'budgets.default.cutAt',
      /cutAt 0.9 is not above warnAt 0.9/,
    ],
  ])('rejects the default %s', (fields, path, message) => {
    const error = rejectedYaml(
      `account: "1"\nbudgets:\n  default: { ${fields} }\n`,
    );

    expect(messageAt(error, path)).toMatch(message);
  });

  it('rejects an override whose cut falls below the default warning', () => {
    const error = rejectedYaml(
      'account: "1"\nbudgets:\n  default: { warnAt: 0.9 }\n  projects:\n    shop: { cutAt: 0.85 }\n',
    );

    expect(messageAt(error, 'budgets.projects.shop.cutAt')).toMatch(
      /cutAt 0.85 is not above warnAt 0.9/,
    );
  });

  it('lowercases project ids used as keys', () => {
    const config = parseConfig(
      `account: "1"\nbudgets:\n  projects:\n    ${ID.toUpperCase()}: { action: none }\n`,
    );

    expect(Object.keys(config.budgets.projects)).toEqual([ID]);
    expect(budgetFor(config, { id: ID, name: 'prod' }).budget.action).toBe(
      'none',
    );
  });

  it('rejects one project id written twice', () => {
    const error = rejectedYaml(
      `account: "1"\nbudgets:\n  projects:\n    ${ID}: {}\n    ${ID.toUpperCase()}: {}\n`,
    );

    expect(messageAt(error, `budgets.projects.${ID.toUpperCase()}`)).toMatch(
      /names project .* a second time/,
    );
  });

  it('rejects a Gnocchi endpoint listed twice', () => {
    const error = rejectedYaml(
      'account: "1"\nendpoints:\n  gnocchi: [https://g.example.com/v1, https://g.example.com/v1/]\nbudgets: {}\n',
    );

    expect(messageAt(error, 'endpoints.gnocchi')).toMatch(
      /same endpoint twice/,
    );
  });

  it('rejects credentials inside an endpoint URL', () => {
    const error = rejectedYaml(
      'account: "1"\nendpoints:\n  resell: https://user:secret@api.example.com/v2\nbudgets: {}\n',
    );

    expect(messageAt(error, 'endpoints.resell')).toMatch(
      /without a user name or password/,
    );
    expect(error.message).not.toContain('secret');
    expect(error.message).toContain('https://***@api.example.com/v2');
  });

  it('rejects __proto__ as a project key', () => {
    const error = rejectedYaml(
      'account: "1"\nbudgets:\n  projects:\n    __proto__: { action: none }\n',
    );

    expect(messageAt(error, 'budgets.projects')).toMatch(
      /unknown key "__proto__"; remove it/,
    );
  });
});
