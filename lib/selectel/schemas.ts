import * as z from 'zod';

// Response schemas are loose objects: Selectel may add fields at any time,
// and only the fields read here are checked.

// ---- Auth

export const ResellTokenSchema = z.looseObject({
  token: z.looseObject({ id: z.string().min(1) }),
});

export const CatalogEntrySchema = z.looseObject({
  type: z.string(),
  name: z.string().optional(),
  endpoints: z.array(
    z.looseObject({
      interface: z.string(),
      region: z.string().nullish(),
      region_id: z.string().nullish(),
      url: z.string(),
    }),
  ),
});
export type CatalogEntry = z.infer<typeof CatalogEntrySchema>;

export const KeystoneTokenSchema = z.looseObject({
  token: z.looseObject({
    expires_at: z.string(),
    catalog: z.array(CatalogEntrySchema).optional(),
  }),
});

// ---- Cloud Management API (resell v2)

/** Project id of the management APIs: 32 hex digits, no dashes. */
export const ProjectIdSchema = z.string().regex(/^[0-9a-f]{32}$/);

export const ProjectSchema = z.looseObject({
  id: ProjectIdSchema,
  name: z.string(),
  url: z.string().nullish(),
  enabled: z.boolean().optional(),
});
export type Project = z.infer<typeof ProjectSchema>;

export const ProjectListSchema = z.looseObject({
  projects: z.array(ProjectSchema),
});

export const ProjectResponseSchema = z.looseObject({ project: ProjectSchema });

export const QuotaScopeSchema = z.enum(['zone', 'region']).nullable();

export const CapabilitiesSchema = z.looseObject({
  capabilities: z.looseObject({
    regions: z.array(
      z.looseObject({
        name: z.string(),
        zones: z
          .array(
            z.looseObject({
              name: z.string(),
              enabled: z.boolean().optional(),
            }),
          )
          .default([]),
      }),
    ),
    resources: z.array(
      z.looseObject({
        name: z.string(),
        quota_scope: QuotaScopeSchema.optional(),
        quotable: z.boolean().optional(),
      }),
    ),
  }),
});
export type Capabilities = z.infer<typeof CapabilitiesSchema>['capabilities'];

/** Legacy resell v2 `/quotas/projects/{id}`: entries carry their region. */
export const LegacyQuotasSchema = z.looseObject({
  quotas: z.record(
    z.string(),
    z.array(
      z.looseObject({
        region: z.string(),
        zone: z.string().nullish(),
        value: z.number(),
        used: z.number().optional(),
      }),
    ),
  ),
});

// ---- Quota Management API

export const QuotaManagerEntrySchema = z.looseObject({
  zone: z.string().nullish(),
  value: z.number(),
  used: z.number().optional(),
});

/** 200 or 207 body of GET and PATCH `/projects/{id}/quotas`. */
export const QuotaManagerQuotasSchema = z.looseObject({
  quotas: z.record(z.string(), z.array(QuotaManagerEntrySchema)).default({}),
  error: z
    .looseObject({
      message: z.string().optional(),
      code: z.number().optional(),
      errors: z.array(z.unknown()).optional(),
    })
    .optional(),
});

/** `GET /projects/{id}/limits`, keyed `quotas` or `limits`. */
export const QuotaManagerLimitsSchema = z
  .looseObject({
    quotas: z.record(z.string(), z.array(QuotaManagerEntrySchema)).optional(),
    limits: z.record(z.string(), z.array(QuotaManagerEntrySchema)).optional(),
  })
  .transform((body) => body.limits ?? body.quotas ?? {});

// ---- Gnocchi

export const GnocchiResourceSchema = z.looseObject({
  id: z.string(),
  type: z.string().optional(),
  name: z.string().nullish(),
  original_resource_id: z.string().nullish(),
  parent_id: z.string().nullish(),
  ended_at: z.string().nullish(),
  metrics: z.record(z.string(), z.string()).default({}),
});
export type GnocchiResource = z.infer<typeof GnocchiResourceSchema>;

export const GnocchiResourceListSchema = z.array(GnocchiResourceSchema);

/** Seconds, given by Gnocchi as a number or as `[N day[s], ]H:MM:SS[.f]`. */
export const TimespanSchema = z
  .union([z.number(), z.string()])
  .transform((value, ctx) => {
    const seconds = typeof value === 'number' ? value : parseTimedelta(value);
    if (seconds === undefined) {
      ctx.addIssue({ code: 'custom', message: `invalid timespan ${value}` });
      return z.NEVER;
    }
    return seconds;
  });

export const ArchivePolicySchema = z.looseObject({
  name: z.string(),
  definition: z.array(
    z.looseObject({
      granularity: TimespanSchema,
      points: z.number().nullish(),
      timespan: TimespanSchema.nullish(),
    }),
  ),
  aggregation_methods: z.array(z.string()),
});
export type ArchivePolicy = z.infer<typeof ArchivePolicySchema>;

export const GnocchiMetricSchema = z.looseObject({
  id: z.string(),
  name: z.string().nullish(),
  archive_policy: ArchivePolicySchema,
});
export type GnocchiMetric = z.infer<typeof GnocchiMetricSchema>;

/** One bucket: start (ISO 8601 with offset), granularity in seconds, value. */
export const MeasureSchema = z.tuple([z.string(), z.number(), z.number()]);
export const MeasureListSchema = z.array(MeasureSchema);

/**
 * `POST /aggregates` response. The measure lists are checked entry by entry
 * while they are converted (see `toBuckets`), because a zod tuple check of
 * every bucket of a batch of hourly series costs more than the rest of the
 * run.
 */
export const AggregatesSchema = z.looseObject({
  measures: z.record(
    z.string(),
    z.record(
      z.string(),
      // Only "is an array": zod would walk and copy every bucket otherwise.
      z.record(
        z.string(),
        z.custom<unknown[]>((value) => Array.isArray(value), {
          error: 'expected a list of measures',
        }),
      ),
    ),
  ),
});

function parseTimedelta(text: string): number | undefined {
  const match = /^(?:(\d+) days?, )?(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(
    text.trim(),
  );
  if (!match) return undefined;
  const [, days, hours, minutes, seconds] = match;

  return (
    Number(days ?? 0) * 86_400 +
    Number(hours) * 3_600 +
    Number(minutes) * 60 +
    Number(seconds)
  );
}
