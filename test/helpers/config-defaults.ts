/**
 * Costs section that a config gets when it sets no costs keys. Tests spell it
 * out here rather than read it from the schema, so a changed default fails them.
 */
export const DEFAULT_COSTS = {
  metric: 'vpc.project.full.cost',
  accountMetric: 'vpc.account.full.cost',
  granularity: 86_400,
  aggregation: 'max',
  staleAfterHours: 36,
  concurrency: 8,
  pageLimit: 1000,
  batchSize: 250,
} as const;
