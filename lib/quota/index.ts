export * from './actions.js';
export * from './errors.js';
export * from './plan.js';
export * from './types.js';
export * from './local-requester.js';
export * from './json.js';
export * from './events.js';
export * from './idempotency.js';
