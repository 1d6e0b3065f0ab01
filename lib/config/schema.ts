import { IANAZone } from 'luxon';
import * as z from 'zod';

/** A strict object whose unknown-key error lists the keys it allows. */
function strict<T extends z.ZodRawShape>(shape: T) {
  const allowed = Object.keys(shape).join(', ');

  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `unknown key ${issue.keys.map((key) => `"${key}"`).join(', ')}; allowed keys: ${allowed}`
        : undefined,
  });
}

/** Rubles with at most two decimals (whole kopecks), zero or more. */
const RublesSchema = z
  .number({ error: 'expected an amount in rubles, such as 1500 or 99.90' })
  .nonnegative({ error: 'expected an amount of 0 or more rubles' })
  .max(1e11, { error: 'expected at most 100000000000 rubles' })
  // Compares with the two-decimal rounding, because `value * 100` is off by
  // more than any fixed tolerance for amounts of billions of rubles.
  .refine((value) => Number(value.toFixed(2)) === value, {
    error: 'expected whole kopecks: at most two decimals',
  });

/** A key that would set an object's prototype instead of naming a project. */
const RESERVED_KEYS = new Set(['__proto__']);

/**
 * Lowercases override keys that are project ids, since the management APIs
 * write ids in lowercase and the CLI accepts any case. Two keys that differ
 * only in case are an error.
 */
function lowercaseProjectIds(
  projects: Record<string, BudgetInput>,
  ctx: z.core.$RefinementCtx,
): Record<string, BudgetInput> {
  const result: Record<string, BudgetInput> = {};
  for (const [key, budget] of Object.entries(projects)) {
    const normalized = /^[0-9a-f]{32}$/i.test(key) ? key.toLowerCase() : key;
    if (Object.hasOwn(result, normalized)) {
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message: `names project ${normalized} a second time; keep one entry per project`,
      });
    }
    result[normalized] = budget;
  }

  return result;
}

/** A share of a limit with at most four decimals, such as 0.8 or 1.2. */
const FractionSchema = z
  .number({ error: 'expected a fraction of the limit, such as 0.8' })
  .gt(0, { error: 'expected a fraction greater than 0' })
  .max(100, { error: 'expected a fraction of at most 100' })
  .refine(
    (value) => Math.abs(value * 10_000 - Math.round(value * 10_000)) < 1e-6,
    { error: 'expected at most four decimals' },
  );

/** The warning share: below the limit itself, which is the `over` level. */
const WarnFractionSchema = FractionSchema.refine((value) => value < 1, {
  error: 'expected a share below 1, such as 0.8 for 80% of the limit',
});

const UrlSchema = z
  .url({ protocol: /^https?$/, error: 'expected an http or https URL' })
  .refine((url) => !/^https?:\/\/[^/]*@/i.test(url), {
    error:
      'expected a URL without a user name or password; credentials go in the environment',
  })
  .transform((url) => url.replace(/\/+$/, ''));

export const ActionSchema = z.enum(['freeze', 'zero', 'none'], {
  error:
    'expected one of freeze (quotas set to what is used), zero, none (never cut)',
});
export type CutAction = z.infer<typeof ActionSchema>;

export const ApprovalSchema = z.enum(['auto', 'manual'], {
  error: 'expected auto (cut at once) or manual (a person approves the cut)',
});

/** One budget: every field optional, so overrides replace only what they name. */
export const BudgetSchema = strict({
  /** Daily limit in rubles; `null` removes a default limit. */
  daily: RublesSchema.nullable().optional(),
  monthly: RublesSchema.nullable().optional(),
  /** Share of a limit that warns, below 1; 0.8 when not set anywhere. */
  warnAt: WarnFractionSchema.optional(),
  /** Share of a limit that cuts; no cut when not set or `null`. */
  cutAt: FractionSchema.nullable().optional(),
  action: ActionSchema.optional(),
  approval: ApprovalSchema.optional(),
});
export type BudgetInput = z.infer<typeof BudgetSchema>;

export const AccountBudgetSchema = strict({
  daily: RublesSchema.nullable().optional(),
  monthly: RublesSchema.nullable().optional(),
  warnAt: WarnFractionSchema.optional(),
});

const TimezoneSchema = z.string().refine((zone) => IANAZone.isValidZone(zone), {
  error: 'unknown IANA timezone; use a name such as Europe/Moscow or UTC',
});

/** Bucket lengths Gnocchi can keep that fit whole into a day. */
export const GRANULARITIES = [300, 600, 900, 1800, 3600, 86_400] as const;

export const ConfigSchema = strict({
  /** Selectel account number, as in the control panel. */
  account: z
    .string({
      error: 'expected the account number as a string, such as "123456"',
    })
    .regex(/^\d{1,12}$/, { error: 'expected the account number: digits only' }),
  currency: z
    .literal('RUB', { error: 'expected RUB: budgets are in rubles' })
    .default('RUB'),
  timezone: TimezoneSchema.default('Europe/Moscow'),
  endpoints: strict({
    resell: UrlSchema.optional(),
    identity: UrlSchema.optional(),
    // Spend is summed over the sources, so one listed twice would count twice.
    gnocchi: z
      .array(UrlSchema)
      .min(1)
      .refine((urls) => new Set(urls).size === urls.length, {
        error: 'lists the same endpoint twice; spend would be counted twice',
      })
      .optional(),
    quotaManager: z
      .record(
        z.string().regex(/^[a-z]{2,4}-\d+$/, {
          error: 'expected a region name such as ru-1',
        }),
        UrlSchema,
      )
      .optional(),
  }).default({}),
  costs: strict({
    metric: z.string().min(1).default('vpc.project.full.cost'),
    accountMetric: z.string().min(1).default('vpc.account.full.cost'),
    granularity: z
      .union(
        GRANULARITIES.map((value) => z.literal(value)),
        {
          error: `expected one of ${GRANULARITIES.join(', ')} seconds`,
        },
      )
      .default(86_400),
    aggregation: z.string().min(1).default('max'),
    staleAfterHours: z
      .number()
      .positive()
      .max(24 * 31)
      .default(36),
    /** Requests in flight at once against each endpoint. */
    concurrency: z.number().int().min(1).max(64).default(8),
    /** Page size of resource listings; Gnocchi's server maximum is often 1000. */
    pageLimit: z.number().int().min(1).max(10_000).default(1000),
    /** Projects per `POST /aggregates`. */
    batchSize: z.number().int().min(1).max(5_000).default(250),
  }).default({
    metric: 'vpc.project.full.cost',
    accountMetric: 'vpc.account.full.cost',
    granularity: 86_400,
    aggregation: 'max',
    staleAfterHours: 36,
    concurrency: 8,
    pageLimit: 1000,
    batchSize: 250,
  }),
  quotas: strict({
    api: z
      .enum(['quota-manager', 'resell'], {
        error:
          'expected quota-manager or resell (the legacy /quotas/projects paths)',
      })
      .default('quota-manager'),
  }).default({ api: 'quota-manager' }),
  budgets: strict({
    account: AccountBudgetSchema.optional(),
    default: BudgetSchema.default({}),
    /** Overrides keyed by project id (32 hex digits) or project name. */
    projects: z
      .record(
        z
          .string()
          .min(1)
          .refine((key) => !RESERVED_KEYS.has(key), {
            error: 'is not allowed as a project key',
          }),
        BudgetSchema,
      )
      .transform(lowercaseProjectIds)
      .default({}),
  }),
  notifications: strict({
    /** Put in front of every subject. */
    subjectPrefix: z.string().max(30).default('[budget-guard]'),
  }).default({ subjectPrefix: '[budget-guard]' }),
});

export type Config = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;

/** JSON Schema of the config file for editors, from the same zod schema. */
export function configJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(ConfigSchema, { io: 'input', unrepresentable: 'any' }),
    title: 'budget-guard budgets.yml',
  };
}
