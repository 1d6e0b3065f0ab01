import * as z from 'zod';

/** Largest webhook body accepted, in bytes. */
export const MAX_BODY_BYTES = 16 * 1024;

/** Body of `POST /quota-actions`; unknown fields are rejected. */
export const WebhookRequestSchema = z.strictObject({
  action: z.enum(['cut', 'restore', 'status']),
  project: z.string().min(1).max(128),
  mode: z.enum(['freeze', 'zero']).optional(),
  dryRun: z.boolean().optional(),
  /** Repeats with the same id return the first result. */
  requestId: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,128}$/)
    .optional(),
  reason: z.string().max(500).optional(),
});
export type WebhookRequest = z.infer<typeof WebhookRequestSchema>;
