import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { IANAZone } from 'luxon';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { GRANULARITIES } from '../../lib/config/schema.js';
import { type CliRun, runMain } from '../helpers/cli-run.js';
import { DEFAULT_COSTS } from '../helpers/config-defaults.js';
import { useTempFolder } from '../helpers/config-temp-folder.js';

type Path = (string | number)[];
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A valid config that sets every section, endpoints on 127.0.0.1. */
const BASE = {
  account: '123456',
  currency: 'RUB',
  timezone: 'Europe/Moscow',
  endpoints: {
    resell: 'http://127.0.0.1:9/vpc/resell/v2',
    identity: 'http://127.0.0.1:9/identity/v3',
    gnocchi: ['http://127.0.0.1:9/gnocchi/ru-3/v1'],
    quotaManager: { 'ru-1': 'http://127.0.0.1:9/quota-manager/ru-1/v1' },
  },
  costs: { ...DEFAULT_COSTS, granularity: 3600 },
  quotas: { api: 'quota-manager' },
  budgets: {
    account: { daily: 9000, monthly: 250000, warnAt: 0.9 },
    default: {
      daily: 1000,
      monthly: 20000,
      warnAt: 0.8,
      cutAt: 1.2,
      action: 'freeze',
      approval: 'auto',
    },
    projects: {
      prod: { monthly: 150000, action: 'none' },
      sandbox: { daily: 200, action: 'zero', approval: 'manual' },
    },
  },
  notifications: { subjectPrefix: '[budget-guard]' },
} satisfies Json;

/** Objects that reject unknown keys, with the keys they allow. */
const STRICT_OBJECTS: [Path, string[]][] = [
  [[], Object.keys(BASE)],
  [['endpoints'], ['resell', 'identity', 'gnocchi', 'quotaManager']],
  [['costs'], Object.keys(BASE.costs)],
  [['quotas'], ['api']],
  [['budgets'], ['account', 'default', 'projects']],
  [
    ['budgets', 'account'],
    ['daily', 'monthly', 'warnAt'],
  ],
  [['budgets', 'default'], Object.keys(BASE.budgets.default)],
  [['budgets', 'projects', 'prod'], Object.keys(BASE.budgets.default)],
  [['notifications'], ['subjectPrefix']],
];

// ---- document helpers

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';

  return typeof value;
}

/** Lists every node of a document below the root, with its path. */
function nodes(value: Json, path: Path = []): { path: Path; value: Json }[] {
  const children: [string | number, Json][] = Array.isArray(value)
    ? value.map((item, index) => [index, item])
    : value !== null && typeof value === 'object'
      ? Object.entries(value)
      : [];

  return children.flatMap(([key, child]) => [
    { path: [...path, key], value: child },
    ...nodes(child, [...path, key]),
  ]);
}

function clone(value: Json): Json {
  return structuredClone(value);
}

/** Returns the object or array that contains the node at `path`. */
function parentOf(doc: Json, path: Path): Record<string | number, Json> {
  let node = doc as Record<string | number, Json>;
  for (const key of path.slice(0, -1))
    node = node[key] as Record<string | number, Json>;

  return node;
}

/** Returns a copy of `doc` with the node at `path` set as an own property, `__proto__` included. */
function setAt(doc: Json, path: Path, value: Json): Json {
  const copy = clone(doc);
  Object.defineProperty(parentOf(copy, path), path.at(-1) as string, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });

  return copy;
}

function deleteAt(doc: Json, path: Path): Json {
  const copy = clone(doc);
  delete parentOf(copy, path)[path.at(-1) as string];

  return copy;
}

function pathText(path: Path): string {
  return path.length === 0 ? '(top level)' : path.join('.');
}

/** Serializes a document as YAML or JSON. NaN and Infinity, which JSON cannot represent, force YAML. */
function serialize(doc: Json, json: boolean): string {
  const finite = !JSON.stringify(doc, (_key, value: unknown) =>
    typeof value === 'number' && !Number.isFinite(value) ? 'NONFINITE' : value,
  ).includes('"NONFINITE"');

  return json && finite ? JSON.stringify(doc, null, 2) : stringify(doc);
}

// ---- generators

const BASE_NODES = nodes(BASE);
const KINDS = ['string', 'number', 'boolean', 'array', 'object'] as const;
const VALUES_BY_KIND: Record<(typeof KINDS)[number], fc.Arbitrary<Json>> = {
  string: fc.string({ maxLength: 20 }),
  number: fc.oneof(
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
  ),
  boolean: fc.boolean(),
  array: fc.array(fc.oneof(fc.integer(), fc.string({ maxLength: 5 })), {
    maxLength: 3,
  }),
  object: fc.dictionary(
    fc.string({ minLength: 1, maxLength: 8 }),
    fc.integer(),
    {
      maxKeys: 3,
    },
  ),
};

/** One field replaced by a value of another JSON type (never null). */
const wrongType = fc.constantFrom(...BASE_NODES).chain((node) =>
  fc
    .constantFrom(...KINDS.filter((kind) => kind !== kindOf(node.value)))
    .chain((kind) => VALUES_BY_KIND[kind])
    .map((value) => ({ path: node.path, value })),
);

const ALLOWED_KEYS = new Set(STRICT_OBJECTS.flatMap(([, keys]) => keys));

/** A key no strict object allows, `__proto__` and near misses included. */
const unknownKeyName = fc
  .oneof(
    fc.constantFrom('__proto__', 'constructor', 'toString', 'Account', 'cutat'),
    fc.string({ minLength: 1, maxLength: 20 }),
  )
  .filter((key) => !ALLOWED_KEYS.has(key));

const unknownKey = fc.tuple(
  fc.constantFrom(...STRICT_OBJECTS),
  unknownKeyName,
  fc.jsonValue({ maxDepth: 1 }),
);

const nonFinite = fc.constantFrom(
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  Number.NaN,
);
/** `whole` plus a digit in the decimal place after the allowed ones. */
const tooManyDecimals = (decimals: number) =>
  fc
    .tuple(
      fc.integer({ min: 0, max: 1_000_000 }),
      fc.integer({ min: 1, max: 9 }),
    )
    .map(([whole, digit]) => whole + digit / 10 ** (decimals + 1));

const badRubles = fc.oneof(
  fc.integer({ min: -1_000_000_000, max: -1 }),
  fc.double({ max: -0.01, noNaN: true, noDefaultInfinity: true }),
  fc.integer({ min: 100_000_000_001, max: Number.MAX_SAFE_INTEGER }),
  tooManyDecimals(2),
  nonFinite,
);
const badFraction = fc.oneof(
  fc.integer({ min: -100, max: 0 }),
  fc.double({ min: 100.0001, max: 1e9, noNaN: true }),
  tooManyDecimals(4).filter((value) => value > 0 && value <= 100),
  nonFinite,
);
const badInteger = (min: number, max: number) =>
  fc.oneof(
    fc.integer({ min: min - 1_000, max: min - 1 }),
    fc.integer({ min: max + 1, max: max + 1_000_000 }),
    fc.integer({ min, max: max - 1 }).map((value) => value + 0.5),
    nonFinite,
  );

/** A numeric field set outside its range, with the path it lives at. */
const outOfRange: fc.Arbitrary<{ path: Path; value: number }> = fc.oneof(
  ...[
    ['budgets', 'default', 'daily'],
    ['budgets', 'default', 'monthly'],
    ['budgets', 'account', 'monthly'],
    ['budgets', 'projects', 'prod', 'monthly'],
    ['budgets', 'projects', 'sandbox', 'daily'],
  ].map((path) => badRubles.map((value) => ({ path, value }))),
  ...[
    ['budgets', 'default', 'warnAt'],
    ['budgets', 'default', 'cutAt'],
    ['budgets', 'account', 'warnAt'],
  ].map((path) => badFraction.map((value) => ({ path, value }))),
  fc
    .integer({ min: -100_000, max: 1_000_000 })
    .filter((value) => !(GRANULARITIES as readonly number[]).includes(value))
    .map((value) => ({ path: ['costs', 'granularity'], value })),
  fc
    .oneof(
      fc.double({ min: -1_000, max: 0, noNaN: true }),
      fc.double({ min: 744.001, max: 1e6, noNaN: true }),
      nonFinite,
    )
    .map((value) => ({ path: ['costs', 'staleAfterHours'], value })),
  badInteger(1, 64).map((value) => ({
    path: ['costs', 'concurrency'],
    value,
  })),
  badInteger(1, 10_000).map((value) => ({
    path: ['costs', 'pageLimit'],
    value,
  })),
  badInteger(1, 5_000).map((value) => ({
    path: ['costs', 'batchSize'],
    value,
  })),
);

const notIn = (allowed: string[]) =>
  fc.string({ maxLength: 30 }).filter((value) => !allowed.includes(value));

/** A string field set to a value outside its enum or format. */
const badString: fc.Arbitrary<{ path: Path; value: string }> = fc.oneof(
  notIn(['RUB']).map((value) => ({ path: ['currency'], value })),
  notIn(['quota-manager', 'resell']).map((value) => ({
    path: ['quotas', 'api'],
    value,
  })),
  ...[
    ['budgets', 'default', 'action'],
    ['budgets', 'projects', 'prod', 'action'],
  ].map((path) =>
    notIn(['freeze', 'zero', 'none']).map((value) => ({ path, value })),
  ),
  notIn(['auto', 'manual']).map((value) => ({
    path: ['budgets', 'default', 'approval'],
    value,
  })),
  fc
    .string({ maxLength: 30 })
    .filter((zone) => !IANAZone.isValidZone(zone))
    .map((value) => ({ path: ['timezone'], value })),
  fc
    .string({ maxLength: 20 })
    .filter((account) => !/^\d{1,12}$/.test(account))
    .map((value) => ({ path: ['account'], value })),
  fc
    .string({ maxLength: 40 })
    .filter((url) => !/^https?:/i.test(url))
    .map((value) => ({ path: ['endpoints', 'resell'], value })),
  fc
    .string({ minLength: 31, maxLength: 60 })
    .map((value) => ({ path: ['notifications', 'subjectPrefix'], value })),
);

// Valid changes: each keeps the document valid on its own and with others.
const OPTIONAL_PATHS = BASE_NODES.map((node) => node.path).filter(
  (path) =>
    !['account', 'budgets'].includes(path.join('.')) &&
    typeof path.at(-1) !== 'number',
);
const goodRubles = fc.oneof(
  fc.integer({ min: 0, max: 1_000_000_000 }),
  fc.integer({ min: 0, max: 100_000_000 }).map((kopecks) => kopecks / 100),
);
// A warning share is below 1 and a cut share above every warning share.
const goodWarn = fc
  .integer({ min: 1, max: 9_999 })
  .map((value) => value / 10_000);
const goodCut = fc
  .integer({ min: 10_000, max: 1_000_000 })
  .map((value) => value / 10_000);
const goodBudget = fc.record(
  {
    daily: fc.option(goodRubles),
    monthly: fc.option(goodRubles),
    warnAt: goodWarn,
    cutAt: fc.option(goodCut),
    action: fc.constantFrom('freeze', 'zero', 'none'),
    approval: fc.constantFrom('auto', 'manual'),
  },
  { requiredKeys: [] },
);

type Change = (doc: Json) => Json;
const validChange: fc.Arbitrary<Change> = fc.oneof(
  fc.constantFrom(...OPTIONAL_PATHS).map((path) => (doc: Json) => {
    const present = nodes(doc).some(
      (node) => node.path.join('.') === path.join('.'),
    );
    return present ? deleteAt(doc, path) : doc;
  }),
  ...[
    ['budgets', 'default', 'daily'],
    ['budgets', 'default', 'monthly'],
    ['budgets', 'account', 'daily'],
  ].map((path) =>
    fc
      .option(goodRubles)
      .map((value) => (doc: Json) => setIfPresent(doc, path, value)),
  ),
  goodWarn.map(
    (value) => (doc: Json) =>
      setIfPresent(doc, ['budgets', 'default', 'warnAt'], value),
  ),
  goodCut.map(
    (value) => (doc: Json) =>
      setIfPresent(doc, ['budgets', 'default', 'cutAt'], value),
  ),
  fc
    .constantFrom(...GRANULARITIES)
    .map(
      (value) => (doc: Json) =>
        setIfPresent(doc, ['costs', 'granularity'], value),
    ),
  fc
    .tuple(
      fc.integer({ min: 1, max: 64 }),
      fc.integer({ min: 1, max: 10_000 }),
      fc.integer({ min: 1, max: 5_000 }),
      fc.integer({ min: 1, max: 744 }),
    )
    .map(([concurrency, pageLimit, batchSize, hours]) => (doc: Json) => {
      let next = setIfPresent(doc, ['costs', 'concurrency'], concurrency);
      next = setIfPresent(next, ['costs', 'pageLimit'], pageLimit);
      next = setIfPresent(next, ['costs', 'batchSize'], batchSize);
      return setIfPresent(next, ['costs', 'staleAfterHours'], hours);
    }),
  // Whole-hour offsets fit every allowed granularity.
  fc
    .constantFrom('UTC', 'Europe/Berlin', 'Asia/Tokyo', 'America/New_York')
    .map((zone) => (doc: Json) => setIfPresent(doc, ['timezone'], zone)),
  fc
    .constantFrom('quota-manager', 'resell')
    .map((api) => (doc: Json) => setIfPresent(doc, ['quotas', 'api'], api)),
  fc
    .string({ maxLength: 30 })
    .map(
      (prefix) => (doc: Json) =>
        setIfPresent(doc, ['notifications', 'subjectPrefix'], prefix),
    ),
  fc
    .tuple(
      fc.oneof(
        fc.string({ minLength: 1, maxLength: 30 }),
        fc.constantFrom('constructor', 'toString', 'прод'),
      ),
      goodBudget,
    )
    .map(
      ([name, budget]) =>
        (doc: Json) =>
          nodes(doc).some((node) => node.path.join('.') === 'budgets.projects')
            ? setAt(doc, ['budgets', 'projects', name], budget)
            : doc,
    ),
);

function setIfPresent(doc: Json, path: Path, value: Json): Json {
  const holder = nodes(doc).some(
    (node) => node.path.join('.') === path.slice(0, -1).join('.'),
  );

  return holder || path.length === 1 ? setAt(doc, path, value) : doc;
}

// ---- the properties

describe('budget-guard validate on mutated configs', () => {
  const folder = useTempFolder('budget-guard-config-');
  let files = 0;

  async function validate(text: string): Promise<CliRun> {
    const file = join(folder(), `budgets-${++files}.yml`);
    await writeFile(file, text);

    return runMain(['validate', '--config', file], { env: {}, cwd: folder() });
  }

  /** Asserts exit 2, a message at `path`, and no stack trace or source location. */
  function expectRejected(run: CliRun, path: Path, input: string): void {
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`\n  ${pathText(path)}: `);
    expectNoStack(run.stderr, input);
  }

  function expectNoStack(stderr: string, input: string): void {
    expect(stderr).not.toMatch(/^\s+at\s/m);
    for (const pattern of [/\.ts:\d/, /\.js:\d/, /node_modules/]) {
      if (!pattern.test(input)) expect(stderr).not.toMatch(pattern);
    }
  }

  it('accepts the base config', async () => {
    const run = await validate(stringify(BASE));

    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  it.each([
    ['a field of the wrong type', wrongType, 250],
    ['a number out of its range', outOfRange, 250],
    ['a string outside its enum or format', badString, 200],
  ] as const)('names the path of %s', async (_case, changes, numRuns) => {
    await fc.assert(
      fc.asyncProperty(changes, fc.boolean(), async (change, json) => {
        const text = serialize(setAt(BASE, change.path, change.value), json);

        const run = await validate(text);

        expectRejected(run, change.path, text);
      }),
      { numRuns },
    );
  });

  it('names the object that has an unknown key', async () => {
    await fc.assert(
      fc.asyncProperty(
        unknownKey,
        fc.boolean(),
        async ([[path], key, value], json) => {
          const text = serialize(
            setAt(BASE, [...path, key], value as Json),
            json,
          );

          const run = await validate(text);

          expectRejected(run, path, text);
          expect(run.stderr).toContain(`unknown key "${key}"`);
        },
      ),
      { numRuns: 200 },
    );
  });

  it.each([['account'], ['budgets']])(
    'names the deleted required field %s',
    async (field) => {
      await fc.assert(
        fc.asyncProperty(fc.boolean(), async (json) => {
          const text = serialize(deleteAt(BASE, [field]), json);

          const run = await validate(text);

          expectRejected(run, [field], text);
          expect(run.stderr).toContain(`${field}: missing`);
        }),
        { numRuns: 4 },
      );
    },
  );

  it('accepts valid mutations', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(validChange, { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        async (changes, json) => {
          const doc = changes.reduce<Json>(
            (next, change) => change(next),
            BASE,
          );
          const text = serialize(doc, json);

          const run = await validate(text);

          expect(run.stderr).toBe('');
          expect(run.status).toBe(0);
          expect(run.stdout).toContain('is valid');
        },
      ),
      { numRuns: 200 },
    );
  });

  // Nine levels of ten aliases each: the YAML library refuses to expand it.
  const aliasBomb = [
    'a: &a [x, x, x, x, x, x, x, x, x, x]',
    ...'bcdefghi'.split('').map((name, index) => {
      const previous = `*${'abcdefgh'[index]}`;
      return `${name}: &${name} [${Array(10).fill(previous).join(', ')}]`;
    }),
  ].join('\n');

  it.each([
    ['an alias with no anchor', 'account: *missing\nbudgets: {}\n'],
    ['a bare alias', '*!'],
    ['an alias expansion bomb', aliasBomb],
  ])('rejects %s as invalid YAML with exit 2', async (_name, text) => {
    const run = await validate(text);

    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^budget-guard validate: invalid YAML/);
    expectNoStack(run.stderr, text);
  });

  it('rejects arbitrary text without a stack trace', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string(),
          fc.string({ unit: 'grapheme', maxLength: 200 }),
          fc.jsonValue().map((value) => JSON.stringify(value) ?? ''),
          fc
            .dictionary(
              fc.string({ maxLength: 10 }),
              fc.jsonValue({ maxDepth: 2 }),
            )
            .map((value) => stringify(value)),
        ),
        async (text) => {
          const run = await validate(text);

          expect(run.status).toBe(2);
          expect(run.stderr).toMatch(/^budget-guard validate: /);
          expect(run.stderr).toMatch(/\n {2}\S.*: /);
          expectNoStack(run.stderr, text);
        },
      ),
      { numRuns: 200 },
    );
  });
});
