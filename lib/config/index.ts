export * from './budgets.js';
export * from './errors.js';
export * from './load.js';
export * from './schema.js';
