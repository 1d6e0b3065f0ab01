import { createHash } from 'node:crypto';
import * as z from 'zod';

/**
 * Instant in a scenario: ISO 8601, `now`, `now-36h`, `now+2d`,
 * `month-start`, `month-start-1d`, `day-start`, `day-start+3h` (UTC, relative to the
 * simulator's clock when the scenario loads).
 */
const InstantSchema = z.string().min(1);

const SeriesSchema = z.strictObject({
  /** Explicit hourly buckets: `[start, kopecks]`. */
  hourly: z.array(z.tuple([InstantSchema, z.number()])).optional(),
  /** Explicit daily buckets when no hourly data exists: `[UTC day start, kopecks]`. */
  daily: z.array(z.tuple([InstantSchema, z.number()])).optional(),
  /** Hourly buckets generated over `[from, to)`. */
  generate: z
    .strictObject({
      from: InstantSchema,
      to: InstantSchema,
      /** Kopecks per hour; an array is cycled hour by hour. */
      kopecksPerHour: z.union([z.number(), z.array(z.number()).min(1)]),
      /** Hours left out, as `[from, to)` ranges. */
      gaps: z.array(z.tuple([InstantSchema, InstantSchema])).default([]),
    })
    .optional(),
});
export type SeriesSpec = z.infer<typeof SeriesSchema>;

const QuotaEntrySchema = z.strictObject({
  zone: z.string().nullish(),
  value: z.number().int().nonnegative(),
  used: z.number().int().nonnegative().default(0),
});

const ProjectSchema = z.strictObject({
  id: z
    .string()
    .regex(/^[0-9a-f]{32}$/)
    .optional(),
  name: z.string().min(1),
  enabled: z.boolean().default(true),
  /** Cost series per Gnocchi source; a bare series belongs to the first source. */
  costs: z.union([SeriesSchema, z.record(z.string(), SeriesSchema)]).optional(),
  /** The project resource exists in Gnocchi but has no cost metric. */
  missingMetric: z.boolean().default(false),
  /** The project is absent from Gnocchi altogether. */
  absentFromGnocchi: z.boolean().default(false),
  /** Quotas by region and resource; unlisted ones start at 0. */
  quotas: z
    .record(z.string(), z.record(z.string(), z.array(QuotaEntrySchema)))
    .default({}),
});
export type ProjectSpec = z.infer<typeof ProjectSchema>;

export const SimRouteSchema = z.enum([
  '*',
  'resell.tokens',
  'resell.projects',
  'resell.project',
  'resell.capabilities',
  'resell.quotas.get',
  'resell.quotas.patch',
  'identity.tokens',
  'gnocchi.resources',
  'gnocchi.search',
  'gnocchi.metric',
  'gnocchi.measures',
  'gnocchi.aggregates',
  'quota.get',
  'quota.patch',
  'quota.limits',
]);
export type SimRoute = z.infer<typeof SimRouteSchema>;

export const FaultSchema = z.strictObject({
  route: SimRouteSchema,
  /** Only requests about this project (32-hex id). */
  project: z.string().optional(),
  /** Only requests to this quota manager region. */
  region: z.string().optional(),
  /** Only requests to this Gnocchi source. */
  source: z.string().optional(),
  /** Matching requests let through before the fault starts. */
  after: z.number().int().nonnegative().default(0),
  /** Matching requests the fault applies to; unlimited when absent. */
  times: z.number().int().positive().optional(),
  latencyMs: z.number().nonnegative().optional(),
  status: z.number().int().min(400).max(599).optional(),
  retryAfterSeconds: z.number().nonnegative().optional(),
  /** Closes the connection without a response. */
  dropConnection: z.boolean().optional(),
  /** Entries reported as failed in a 207 (`quota.patch`, `quota.get`). */
  failEntries: z
    .array(z.strictObject({ resource: z.string(), zone: z.string().nullish() }))
    .optional(),
});
export type Fault = z.infer<typeof FaultSchema>;

export const ScenarioSchema = z.strictObject({
  account: z.string().default('123456'),
  apiKey: z.string().default('sim-api-key'),
  serviceUser: z
    .strictObject({ username: z.string(), password: z.string() })
    .default({ username: 'budget-guard', password: 'sim-password' }),
  /** Keystone `expires_at`, seconds after issue. */
  tokenTtlSeconds: z.number().positive().default(86_400),
  /** Tokens stop working after this many seconds or authenticated calls. */
  tokenExpiry: z
    .strictObject({
      afterSeconds: z.number().positive().optional(),
      afterCalls: z.number().int().positive().optional(),
      /** Only the first N tokens issued expire early. */
      firstTokens: z.number().int().positive().optional(),
    })
    .default({}),
  regions: z
    .array(z.strictObject({ name: z.string(), zones: z.array(z.string()) }))
    .default([
      { name: 'ru-1', zones: ['ru-1a', 'ru-1b'] },
      { name: 'ru-3', zones: ['ru-3a'] },
    ]),
  resources: z
    .array(
      z.strictObject({
        name: z.string(),
        scope: z.enum(['zone', 'region']),
        /** Values must be a multiple of this, as compute_ram is of 256. */
        step: z.number().int().positive().default(1),
        /** Per-project maximum returned by `/limits`. */
        limit: z.number().int().positive().default(10_000_000),
      }),
    )
    .default([
      { name: 'compute_cores', scope: 'zone', step: 1, limit: 10_000_000 },
      { name: 'compute_ram', scope: 'zone', step: 256, limit: 10_000_000 },
      {
        name: 'volume_gigabytes_fast',
        scope: 'zone',
        step: 1,
        limit: 10_000_000,
      },
      { name: 'image_gigabytes', scope: 'region', step: 1, limit: 10_000_000 },
      {
        name: 'network_floatingips',
        scope: 'region',
        step: 1,
        limit: 10_000_000,
      },
    ]),
  gnocchi: z
    .strictObject({
      sources: z.array(z.string().regex(/^[a-z0-9-]+$/)).min(1),
      projectMetric: z.string(),
      accountMetric: z.string(),
      pageLimitMax: z.number().int().positive(),
      granularities: z.array(z.number().int().positive()),
      aggregationMethods: z.array(z.string()),
      /** `POST /aggregates` returns this status instead of data. */
      refuseAggregates: z.number().int().min(400).max(599).optional(),
    })
    .default({
      sources: ['ru-3'],
      projectMetric: 'vpc.project.full.cost',
      accountMetric: 'vpc.account.full.cost',
      pageLimitMax: 1000,
      granularities: [3600, 86_400],
      aggregationMethods: ['max', 'mean', 'sum', 'min'],
    }),
  quotaRules: z
    .strictObject({
      /** Reject values below `used`; the real behaviour is unconfirmed. */
      rejectBelowUsed: z.boolean().default(false),
      /** Reject every increase, as when the account has no free quota left. */
      rejectIncrease: z.boolean().default(false),
    })
    .default({ rejectBelowUsed: false, rejectIncrease: false }),
  projects: z.array(ProjectSchema).default([]),
  faults: z.array(FaultSchema).default([]),
});
export type Scenario = z.infer<typeof ScenarioSchema>;
export type ScenarioInput = z.input<typeof ScenarioSchema>;

/** Parses a scenario, naming the first invalid field on failure. */
export function parseScenario(input: unknown): Scenario {
  const parsed = ScenarioSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `invalid simulator scenario at ${issue?.path.join('.') || '(root)'}: ${issue?.message}`,
    );
  }

  return parsed.data;
}

/** Project id of a name when the scenario gives none: stable across runs. */
export function projectIdFor(name: string): string {
  return createHash('sha256')
    .update(`project:${name}`)
    .digest('hex')
    .slice(0, 32);
}

/** Gnocchi's dashed form of a 32-hex id. */
export function dashed(id: string): string {
  return [
    id.slice(0, 8),
    id.slice(8, 12),
    id.slice(12, 16),
    id.slice(16, 20),
    id.slice(20),
  ].join('-');
}

/** Derives a UUID from a seed, for metric ids that stay the same across runs. */
export function stableUuid(seed: string): string {
  return dashed(createHash('sha256').update(seed).digest('hex').slice(0, 32));
}

/** Resolves a scenario instant against the simulator clock. */
export function resolveInstant(text: string, nowMs: number): number {
  const match =
    /^(now|month-start|day-start)(?:([+-])(\d+(?:\.\d+)?)([smhd]))?$/.exec(
      text,
    );
  if (!match) {
    const ms = Date.parse(text);
    if (Number.isNaN(ms)) throw new Error(`invalid scenario instant ${text}`);
    return ms;
  }
  const [, anchor, sign, amount, unit] = match;
  const now = new Date(nowMs);
  let baseMs = nowMs;
  if (anchor === 'month-start') {
    baseMs = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
  } else if (anchor === 'day-start') {
    baseMs = Date.UTC(
      now.getUTCFullYear(),
      now.getUTCMonth(),
      now.getUTCDate(),
    );
  }
  if (!sign) return baseMs;
  const unitMs = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[
    unit as 's' | 'm' | 'h' | 'd'
  ];

  return baseMs + (sign === '-' ? -1 : 1) * Number(amount) * unitMs;
}
